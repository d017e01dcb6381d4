// GGML tensor types as numbered in GGUF files, and the one table that describes each: block
// geometry for the format readers, what the bundled engine and `quantize` do with it. The
// engine's functions for a type (row conversion, dot kernels per ISA, GEMM packing) sit in a
// second table indexed by the same enum, lib/src/kernels/type_kernels.cpp, which checks at
// compile time that the two agree.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace modelswarm {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35,
};

// One past the highest id above: tables indexed by type have this many slots.
inline constexpr uint32_t kGgmlTypeIdLimit = 36;

struct GgmlTypeTraits {
  GgmlType type = GgmlType::F32;
  std::string_view name;        // as llama.cpp prints it: "Q4_0", "F16", ...
  uint32_t block_elements = 1;  // elements per block (1 for plain types)
  uint32_t block_bytes = 0;     // bytes per block

  // The bundled engine: matvec / matmul (and so run, bench, eval) take weights of this type,
  // their activations converted to dot_type first (Q8_0, Q8_K, or F32: used as they are).
  bool engine = false;
  GgmlType dot_type = GgmlType::F32;

  // `quantize --type` writes files of this type; they say so with general.file_type (llama.cpp's
  // llama_ftype) and hold the output matrix as output_type (nullopt: this type too).
  bool quantize = false;
  uint32_t file_type = 0;
  std::optional<GgmlType> output_type = std::nullopt;
  // What a converted matrix whose rows are not a whole number of blocks is stored as instead.
  GgmlType fallback = GgmlType::F16;
};

// Traits of a type id read from a file; nullopt for ids that are not (or no longer) defined.
std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t id);
std::optional<GgmlType> ggml_type_from_name(std::string_view name);
// Every defined type, in id order.
std::span<const GgmlTypeTraits> ggml_types();
// The type's name, or its number for an id that is not defined (for messages).
std::string ggml_type_name(GgmlType type);
// Names of the types `keep` selects, in id order, joined by `sep` ("F32, F16, BF16").
std::string ggml_type_names(bool (*keep)(const GgmlTypeTraits&), std::string_view sep = ", ");

// Bytes of `elements` elements of `type`; nullopt when elements is not a whole number of blocks
// or the product overflows. REQUIRES: type is defined.
std::optional<uint64_t> ggml_row_bytes(GgmlType type, uint64_t elements);

}  // namespace modelswarm
