// model.safetensors.index.json parser on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "modelswarm/safetensors.hpp"

using namespace modelswarm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = parse_safetensors_index(std::string_view(reinterpret_cast<const char*>(data), size),
                                   "fuzz.index.json");
  if (!r.ok()) return 0;
  for (const auto& s : r->shards)
    if (s.empty() || s.find('/') != std::string::npos || s == "..") __builtin_trap();
  return 0;
}
