#include "release/layout.hpp"

namespace modelswarm::detail {

// Until the format readers land, every file is chunked as a whole.
Result<ModelLayout> read_layout(const std::filesystem::path& path, uint64_t file_size) {
  (void)path;
  (void)file_size;
  return ModelLayout{};
}

}  // namespace modelswarm::detail
