// safetensors header parser on arbitrary bytes (8-byte length + JSON + data).
#include <cstddef>
#include <cstdint>
#include <span>

#include "modelswarm/safetensors.hpp"

using namespace modelswarm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = parse_safetensors(std::span(data, size), size, "fuzz.safetensors");
  if (!r.ok()) return 0;
  // Accepted files tile their data section exactly.
  uint64_t expect = 0;
  for (const auto& t : r->tensors) {
    if (t.begin != expect || t.end < t.begin) __builtin_trap();
    expect = t.end;
  }
  if (r->data_offset + expect != size) __builtin_trap();
  return 0;
}
