#include "modelswarm/ggml_type.hpp"

#include "util/ggml_type_table.hpp"

namespace modelswarm {

namespace {
constexpr bool table_is_well_formed() {
  for (size_t i = 0; i < kGgmlTypeTable.size(); ++i) {
    const GgmlTypeTraits& t = kGgmlTypeTable[i];
    // In id order, so that ggml_types() lists them so and the index below has one row per id.
    if (i > 0 && uint32_t(t.type) <= uint32_t(kGgmlTypeTable[i - 1].type)) return false;
    if (uint32_t(t.type) >= kGgmlTypeIdLimit || t.block_elements == 0 || t.block_bytes == 0)
      return false;
    if (t.quantize && !t.engine) return false;  // quantize only writes what the engine runs
    // Falling back must end: each step to smaller blocks, down to single elements.
    const GgmlTypeTraits* f = find_ggml_type(t.fallback);
    if (t.block_elements > 1 && (!f || f->block_elements >= t.block_elements)) return false;
  }
  return true;
}
// GCC cannot fold comparisons of a function's or a table row's address with null once the
// sanitizers instrument them, so the ASan/UBSan build skips this compile-time check; every
// other build makes it, on the same table.
#if !defined(__SANITIZE_ADDRESS__)
static_assert(table_is_well_formed());
#endif

// Row index of each id (-1: undefined), for lookups on the kernels' hot paths.
constexpr std::array<int8_t, kGgmlTypeIdLimit> kIndex = [] {
  std::array<int8_t, kGgmlTypeIdLimit> a{};
  a.fill(-1);
  for (size_t i = 0; i < kGgmlTypeTable.size(); ++i)
    a[uint32_t(kGgmlTypeTable[i].type)] = int8_t(i);
  return a;
}();
}  // namespace

std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t id) {
  if (id >= kGgmlTypeIdLimit || kIndex[id] < 0) return std::nullopt;
  return kGgmlTypeTable[size_t(kIndex[id])];
}

std::optional<GgmlType> ggml_type_from_name(std::string_view name) {
  for (const auto& t : kGgmlTypeTable)
    if (t.name == name) return t.type;
  return std::nullopt;
}

std::span<const GgmlTypeTraits> ggml_types() { return kGgmlTypeTable; }

std::string ggml_type_name(GgmlType type) {
  auto t = ggml_type_traits(static_cast<uint32_t>(type));
  return t ? std::string(t->name) : std::to_string(static_cast<uint32_t>(type));
}

std::string ggml_type_names(bool (*keep)(const GgmlTypeTraits&), std::string_view sep) {
  std::string out;
  for (const auto& t : kGgmlTypeTable) {
    if (!keep(t)) continue;
    if (!out.empty()) out += sep;
    out += t.name;
  }
  return out;
}

std::optional<uint64_t> ggml_row_bytes(GgmlType type, uint64_t elements) {
  auto t = ggml_type_traits(static_cast<uint32_t>(type));
  if (!t || elements % t->block_elements != 0) return std::nullopt;
  uint64_t blocks = elements / t->block_elements;
  if (blocks > UINT64_MAX / t->block_bytes) return std::nullopt;
  return blocks * t->block_bytes;
}

}  // namespace modelswarm
