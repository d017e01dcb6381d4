// GGUF header parser on arbitrary bytes: must return an error or a consistent file, never
// crash, never read out of bounds, never allocate more than the input justifies.
#include <cstddef>
#include <cstdint>
#include <span>

#include "modelswarm/gguf.hpp"

using namespace modelswarm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = parse_gguf(std::span(data, size), size, "fuzz.gguf");
  if (!r.ok()) return 0;
  const GgufFile& f = *r;
  // What the parser promises about an accepted file.
  if (f.data_offset > size) __builtin_trap();
  if (!f.tensors.empty() && f.data_offset % f.alignment != 0) __builtin_trap();
  for (const auto& t : f.tensors) {
    if (t.offset % f.alignment != 0) __builtin_trap();
    if (f.data_offset + t.offset + t.size > size) __builtin_trap();
  }
  // Accessors and display on whatever the file holds.
  const Metadata& m = f.metadata;
  for (const auto& [k, v] : m.entries()) {
    (void)v.to_display();
    (void)m.get_u32(k);
    (void)m.get_f32(k);
    (void)m.get_string(k);
    (void)m.get_f32_array(k);
    (void)m.get_i32_array(k);
    (void)m.get_string_array(k);
    if (v.is_array() && v.elem_type() != MetaType::string && v.elem_type() != MetaType::array &&
        v.size() > 0)
      (void)v.number_at(v.size() - 1);
  }
  return 0;
}
