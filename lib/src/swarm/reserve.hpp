// Private: disk space reserved before libtorrent writes files through a memory map.
#pragma once

#include <cstdint>
#include <filesystem>
#include <utility>
#include <vector>

#include "modelswarm/error.hpp"

namespace modelswarm::swarm {

// Creates each file (and its directories) if needed and reserves `size` bytes for it. With the
// mmap disk back-end, a write into a full disk is a SIGBUS that kills the process; reserved
// space turns that into this function's io error ("disk full"), before any byte is written.
Status reserve_files(const std::vector<std::pair<std::filesystem::path, std::int64_t>>& files);

}  // namespace modelswarm::swarm
