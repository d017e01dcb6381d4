// Where fetches recorded their output directories: state_dir()/staging/<16 hex>.json, each
// {"out_dir": "/abs/path"}; the file name is a digest of the path, so a directory is recorded once.
#pragma once

#include <filesystem>

#include "modelswarm/error.hpp"

namespace modelswarm::store {

std::filesystem::path staging_records_dir();
Status record_out_dir(const std::filesystem::path& out_dir);

}  // namespace modelswarm::store
