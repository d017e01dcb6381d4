// GGML tensor types as numbered in GGUF files, with their block geometry. Shared by the format
// readers (to size tensors), the kernels and the inference engine.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace modelswarm {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35,
};

struct GgmlTypeTraits {
  std::string_view name;     // as llama.cpp prints it: "Q4_0", "F16", ...
  uint32_t block_elements;   // elements per block (1 for plain types)
  uint32_t block_bytes;      // bytes per block
};

// Traits of a type id read from a file; nullopt for ids that are not (or no longer) defined.
std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t id);
std::optional<GgmlType> ggml_type_from_name(std::string_view name);

// Bytes of `elements` elements of `type`; nullopt when elements is not a whole number of blocks
// or the product overflows. REQUIRES: type is defined.
std::optional<uint64_t> ggml_row_bytes(GgmlType type, uint64_t elements);

}  // namespace modelswarm
