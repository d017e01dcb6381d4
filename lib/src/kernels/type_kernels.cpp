// The kernels' rows of the type table (see type_kernels.hpp), one per type, and the checks that
// keep them in step with the metadata rows of util/ggml_type_table.hpp.
#include "kernels/type_kernels.hpp"

#include "kernels/dot_isa.hpp"
#include "kernels/q32_formats.hpp"
#include "kernels/kquant2.hpp"
#include "kernels/quant_internal.hpp"
#include "util/ggml_type_table.hpp"

namespace modelswarm::kernels {

namespace {
using T = GgmlType;

// Row conversions of a block format from its per-block functions, whose block struct must have
// the size the metadata gives.
template <GgmlType Type, class Block, void (*Quantize)(const float*, Block*, size_t),
          void (*Dequantize)(const Block*, float*, size_t)>
constexpr RowConversion block_rows() {
  constexpr size_t n = find_ggml_type(Type)->block_elements;
  static_assert(sizeof(Block) == find_ggml_type(Type)->block_bytes);
  return {
      [](const void* x, float* y, size_t k) { Dequantize(static_cast<const Block*>(x), y, k / n); },
      [](const float* x, void* y, size_t k) { Quantize(x, static_cast<Block*>(y), k / n); }};
}

// Columns: type, row conversions, lanes of the packed GEMM (elements per lane, level offset,
// min term, largest level), then per ISA (scalar, avx2, avx512) the dot kernel, its activation
// layout when not plain dot_type rows, and the GEMM's packer: the AVX-512 gathers where written,
// else the portable packers of gemm_pack_weights.cpp, which write the same bytes.
constexpr std::array<TypeKernels, 16> kTypeKernels{{
    {T::F32, {dequantize_f32, quantize_f32}, {},
     {{{dot_f32_f32_scalar}, {dot_f32_f32_avx2}, {dot_f32_f32_avx512}}}},
    {T::F16, {dequantize_f16, quantize_f16}, {},
     {{{dot_f16_f32_scalar}, {dot_f16_f32_avx2}, {dot_f16_f32_avx512}}}},
    {T::Q4_0, block_rows<T::Q4_0, BlockQ4_0, quantize_q4_0, dequantize_q4_0>(), {32, 8, false, 15},
     {{{dot_q4_0_q8_0_scalar},
       {dot_q4_0_q8_pairs_avx2, &kQ8Pairs, pack_weights_q4_0_avx2},
       {dot_q4_0_q8_pairs_avx512, &kQ8Pairs, pack_weights_q4_0_avx512}}}},
    // Q4_1 and Q5_1 (x = d·q + m) take their m as a negative min; Q5_0 is Q4_0 with 5 bits.
    {T::Q4_1, block_rows<T::Q4_1, BlockQ4_1, quantize_q4_1, dequantize_q4_1>(), {32, 0, true, 15},
     {{{dot_q4_1_q8_0_scalar},
       {dot_q4_1_q8_pairs_avx2, &kQ8Pairs, pack_weights_q4_1},
       {dot_q4_1_q8_pairs_avx512, &kQ8Pairs, pack_weights_q4_1}}}},
    {T::Q5_0, block_rows<T::Q5_0, BlockQ5_0, quantize_q5_0, dequantize_q5_0>(), {32, 16, false, 31},
     {{{dot_q5_0_q8_0_scalar},
       {dot_q5_0_q8_pairs_avx2, &kQ8Pairs, pack_weights_q5_0},
       {dot_q5_0_q8_pairs_avx512, &kQ8Pairs, pack_weights_q5_0}}}},
    {T::Q5_1, block_rows<T::Q5_1, BlockQ5_1, quantize_q5_1, dequantize_q5_1>(), {32, 0, true, 31},
     {{{dot_q5_1_q8_0_scalar},
       {dot_q5_1_q8_pairs_avx2, &kQ8Pairs, pack_weights_q5_1},
       {dot_q5_1_q8_pairs_avx512, &kQ8Pairs, pack_weights_q5_1}}}},
    // No AVX2 GEMM for IQ4_NL, IQ4_XS and Q8_0: their levels (codebook value or w, +128, up to
    // 241 or 255) would saturate vpmaddubsw's int16 pairs.
    {T::IQ4_NL, block_rows<T::IQ4_NL, BlockIQ4_NL, quantize_iq4_nl, dequantize_iq4_nl>(),
     {32, 128, false, 241},
     {{{dot_iq4_nl_q8_0_scalar},
       {dot_iq4_nl_q8_pairs_avx2, &kQ8Pairs},
       {dot_iq4_nl_q8_pairs_avx512, &kQ8Pairs, pack_weights_iq4_nl}}}},
    {T::Q8_0, block_rows<T::Q8_0, BlockQ8_0, quantize_q8_0, dequantize_q8_0>(), {32, 128, false, 255},
     {{{dot_q8_0_q8_0_scalar},
       {dot_q8_0_q8_0_avx2},
       {dot_q8_0_q8_0_avx512, nullptr, pack_weights_q8_0_avx512}}}},
    {T::Q4_K, block_rows<T::Q4_K, BlockQ4_K, quantize_q4_k, dequantize_q4_k>(), {32, 0, true, 15},
     {{{dot_q4_k_q8_k_scalar},
       {dot_q4_k_q8_k_avx2, nullptr, pack_weights_q4_k_avx2},
       {dot_q4_k_q8_k_q4k_order_avx512, &kQ8KInQ4KOrder, pack_weights_q4_k_avx512}}}},
    {T::Q6_K, block_rows<T::Q6_K, BlockQ6_K, quantize_q6_k, dequantize_q6_k>(), {16, 32, false, 63},
     {{{dot_q6_k_q8_k_scalar},
       {dot_q6_k_q8_k_avx2, nullptr, pack_weights_q6_k_avx2},
       {dot_q6_k_q8_k_avx512, nullptr, pack_weights_q6_k_avx512}}}},
    // Q5_K: Q4_K with 5-bit levels. Q3_K: Q6_K's 16-element lanes, levels q+4 and signed scales
    // d·(sc-32). Q2_K: 16-element lanes with a min each.
    {T::Q5_K, block_rows<T::Q5_K, BlockQ5_K, quantize_q5_k, dequantize_q5_k>(), {32, 0, true, 31},
     {{{dot_q5_k_q8_k_scalar},
       {dot_q5_k_q8_k_avx2, nullptr, pack_weights_q5_k},
       {dot_q5_k_q8_k_avx512, nullptr, pack_weights_q5_k}}}},
    {T::Q3_K, block_rows<T::Q3_K, BlockQ3_K, quantize_q3_k, dequantize_q3_k>(), {16, 4, false, 7},
     {{{dot_q3_k_q8_k_scalar},
       {dot_q3_k_q8_k_avx2, nullptr, pack_weights_q3_k},
       {dot_q3_k_q8_k_avx512, nullptr, pack_weights_q3_k}}}},
    {T::Q2_K, block_rows<T::Q2_K, BlockQ2_K, quantize_q2_k, dequantize_q2_k>(), {16, 0, true, 3},
     {{{dot_q2_k_q8_k_scalar},
       {dot_q2_k_q8_k_avx2, nullptr, pack_weights_q2_k},
       {dot_q2_k_q8_k_avx512, nullptr, pack_weights_q2_k}}}},
    // AVX-512 only, as IQ4_NL.
    {T::IQ4_XS, block_rows<T::IQ4_XS, BlockIQ4_XS, quantize_iq4_xs, dequantize_iq4_xs>(),
     {32, 128, false, 241},
     {{{dot_iq4_xs_q8_k_scalar},
       {dot_iq4_xs_q8_k_avx2},
       {dot_iq4_xs_q8_k_avx512, nullptr, pack_weights_iq4_xs}}}},
    {T::Q8_K, block_rows<T::Q8_K, BlockQ8_K, quantize_q8_k, dequantize_q8_k>(), {}, {}},
    {T::BF16, {dequantize_bf16, quantize_bf16}, {},
     {{{dot_bf16_f32_scalar}, {dot_bf16_f32_avx2}, {dot_bf16_f32_avx512}}}},
}};

constexpr const TypeKernels* find_row(GgmlType type) {
  for (const auto& r : kTypeKernels)
    if (r.type == type) return &r;
  return nullptr;
}

// Exactly the types the metadata says the engine runs have dot kernels; they convert rows both
// ways, and so does their activation type (F32: used as it is).
constexpr bool engine_types_have_kernels() {
  for (const GgmlTypeTraits& t : kGgmlTypeTable) {
    const TypeKernels* k = find_row(t.type);
    if (t.engine != (k && k->isa[size_t(KernelIsa::scalar)].dot)) return false;
    if (!t.engine) continue;
    const TypeKernels* acts = find_row(t.dot_type);
    if (!k->rows.to_float || !k->rows.from_float || !acts || !acts->rows.from_float) return false;
  }
  return true;
}
// GCC cannot fold comparisons of a function's or a table row's address with null once the
// sanitizers instrument them, so the ASan/UBSan build skips this compile-time check; every
// other build makes it, on the same table.
#if !defined(__SANITIZE_ADDRESS__)
static_assert(engine_types_have_kernels(), "type table and kernel rows disagree");
#endif

// One row per defined type. The scalar entry is the reference: plain activation rows and row
// dots. A layout or packer comes with its own dot kernel, and lanes that fit the activations:
// one Q8_0 block, or 16-element Q8_K sub-blocks taken whole.
constexpr bool rows_are_consistent() {
  for (const TypeKernels& k : kTypeKernels) {
    const GgmlTypeTraits* t = find_ggml_type(k.type);
    if (!t || find_row(k.type) != &k) return false;
    const IsaKernels& scalar = k.isa[size_t(KernelIsa::scalar)];
    if (scalar.acts || scalar.gemm_pack) return false;
    const int lane = k.lanes.lane_elements;
    for (const IsaKernels& e : k.isa)
      if ((e.acts || e.gemm_pack) && !e.dot) return false;
    for (const IsaKernels& e : k.isa)
      if (e.gemm_pack && lane == 0) return false;
    // The AVX2 tile adds the int16 pair sums of at least two steps (gemm_avx2.cpp).
    if (k.isa[size_t(KernelIsa::avx2)].gemm_pack && !int16_pair_sums_fit(k.lanes.max_level, 2))
      return false;
    if (lane != 0 && !(t->dot_type == T::Q8_0 ? lane == 32
                       : t->dot_type == T::Q8_K && lane % 16 == 0 && 256 % lane == 0))
      return false;
  }
  return true;
}
#if !defined(__SANITIZE_ADDRESS__)  // see ggml_type.cpp
static_assert(rows_are_consistent(), "a kernel row is malformed");
#endif

constexpr std::array<const TypeKernels*, kGgmlTypeIdLimit> kByType = [] {
  std::array<const TypeKernels*, kGgmlTypeIdLimit> a{};
  for (const auto& r : kTypeKernels) a[uint32_t(r.type)] = &r;
  return a;
}();
}  // namespace

const TypeKernels* type_kernels(GgmlType type) {
  const auto id = static_cast<uint32_t>(type);
  return id < kGgmlTypeIdLimit ? kByType[id] : nullptr;
}

}  // namespace modelswarm::kernels
