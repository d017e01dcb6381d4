// Where modelswarm keeps per-user state (trust store, rollback state), and how it writes small
// files so that a crash never leaves a half-written one under the final name.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "modelswarm/error.hpp"

namespace modelswarm {

// $MODELSWARM_HOME if set and non-empty, else $XDG_DATA_HOME/modelswarm, else
// ~/.local/share/modelswarm. Not created here (see ensure_state_dir()).
std::filesystem::path state_dir();

// Creates state_dir() (mode 0700) when missing and returns it.
Result<std::filesystem::path> ensure_state_dir();

// Writes `data` to `path` atomically: a temp file in the same directory, fsync, rename over
// `path`, fsync of the directory. `mode` is applied to the new file before any byte is written.
Status write_file_atomic(const std::filesystem::path& path, std::string_view data,
                         unsigned mode = 0644);

// Reads a whole regular file of at most `max_bytes` (a larger file is a format error naming it).
Result<std::string> read_small_file(const std::filesystem::path& path, size_t max_bytes);

}  // namespace modelswarm
