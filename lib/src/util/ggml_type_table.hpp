// The GGML type table (see ggml_type.hpp), visible at compile time so that the kernels' own
// table (kernels/type_kernels.cpp) can be checked against it with static_assert.
//
// Adding a type the engine runs: set its row here, then add its row of functions to
// kernels/type_kernels.cpp (the compiler checks that both are there).
#pragma once

#include <array>
#include <optional>

#include "modelswarm/ggml_type.hpp"

namespace modelswarm {

// Sizes follow ggml's block structs (ggml-common.h); ids 4, 5 and 31-33 were removed upstream.
// Columns after the sizes, where set: engine, dot_type, quantize, file_type, output_type,
// fallback (see GgmlTypeTraits).
inline constexpr std::array<GgmlTypeTraits, 31> kGgmlTypeTable = [] {
  using T = GgmlType;
  constexpr auto same = std::nullopt;
  return std::array<GgmlTypeTraits, 31>{{
      {T::F32, "F32", 1, 4, true, T::F32, true, 0},
      {T::F16, "F16", 1, 2, true, T::F32, true, 1},
      {T::Q4_0, "Q4_0", 32, 18, true, T::Q8_0, true, 2, T::Q6_K},
      {T::Q4_1, "Q4_1", 32, 20, true, T::Q8_0, true, 3, T::Q6_K},
      {T::Q5_0, "Q5_0", 32, 22, true, T::Q8_0, true, 8, T::Q6_K},
      {T::Q5_1, "Q5_1", 32, 24, true, T::Q8_0, true, 9, T::Q6_K},
      {T::Q8_0, "Q8_0", 32, 34, true, T::Q8_0, true, 7},
      {T::Q8_1, "Q8_1", 32, 36},
      {T::Q2_K, "Q2_K", 256, 84, true, T::Q8_K},
      {T::Q3_K, "Q3_K", 256, 110, true, T::Q8_K},
      // file type 14 is MOSTLY_Q4_K_S: every matrix Q4_K but the output.
      {T::Q4_K, "Q4_K", 256, 144, true, T::Q8_K, true, 14, T::Q6_K, T::Q4_0},
      {T::Q5_K, "Q5_K", 256, 176, true, T::Q8_K},
      {T::Q6_K, "Q6_K", 256, 210, true, T::Q8_K, false, 0, same, T::Q8_0},
      {T::Q8_K, "Q8_K", 256, 292},  // the activations of K-quant dot products
      {T::IQ2_XXS, "IQ2_XXS", 256, 66},
      {T::IQ2_XS, "IQ2_XS", 256, 74},
      {T::IQ3_XXS, "IQ3_XXS", 256, 98},
      {T::IQ1_S, "IQ1_S", 256, 50},
      {T::IQ4_NL, "IQ4_NL", 32, 18, true, T::Q8_0, true, 25, T::Q6_K},
      {T::IQ3_S, "IQ3_S", 256, 110},
      {T::IQ2_S, "IQ2_S", 256, 82},
      {T::IQ4_XS, "IQ4_XS", 256, 136, true, T::Q8_K},
      {T::I8, "I8", 1, 1},
      {T::I16, "I16", 1, 2},
      {T::I32, "I32", 1, 4},
      {T::I64, "I64", 1, 8},
      {T::F64, "F64", 1, 8},
      {T::IQ1_M, "IQ1_M", 256, 56},
      {T::BF16, "BF16", 1, 2, true, T::F32, true, 32},
      {T::TQ1_0, "TQ1_0", 256, 54},
      {T::TQ2_0, "TQ2_0", 256, 66},
  }};
}();

// The row of `type`, or nullptr; usable in constant expressions.
constexpr const GgmlTypeTraits* find_ggml_type(GgmlType type) {
  for (const auto& t : kGgmlTypeTable)
    if (t.type == type) return &t;
  return nullptr;
}

}  // namespace modelswarm
