// Repacked int8 layout for prefill matrix multiplies with vpdpbusd.
//
// vpdpbusd adds four byte products into each of 16 int32 lanes. If lane j always holds
// elements of one scale block j, a run of vpdpbusd leaves one exact integer sum per block in
// each lane and no horizontal reduction is needed. So weights and activations are repacked into
// groups of 16 blocks ("lanes") of B elements (B = 32, or 16 for Q6_K): step s of a group is 64
// bytes, lane j's 4 bytes being elements 4s..4s+3 of block j. Weights become unsigned levels
// (the format's value + offset: Q8_0 and the IQ4 codebooks add 128, Q3_K 4, Q5_0 16, Q6_K 32)
// with a float scale per lane and, for formats with a min term (Q2_K, Q4_K, Q5_K; Q4_1 and
// Q5_1, whose +m enters as min -m), a float min per lane; activations are the Q8_0 / Q8_K
// values llama.cpp uses, with per lane the float scale, the constant-offset correction
// -offset·Σx as int32, and dx·Σx for the min term.
#pragma once

#include <cstddef>
#include <cstdint>

#include "modelswarm/ggml_type.hpp"
#include "modelswarm/kernels.hpp"

namespace modelswarm::kernels {

struct PackedFormat {
  GgmlType type;
  int lane_elements;     // B
  int offset;            // unsigned level = value + offset (0 when the format has mins)
  bool has_min;          // per-lane min term
  int max_level;         // largest unsigned level
  size_t groups;         // groups per row (the last one may be partly empty)
  GgmlType act_type;     // the activations' blocks: Q8_0, or Q8_K (lanes are its sub-blocks)
  size_t steps() const { return size_t(lane_elements) / 4; }
  // Bytes of one group of a weight row: levels, scales[16], mins[16] (has_min only).
  size_t weight_group_bytes() const { return 16 * size_t(lane_elements) + (has_min ? 128 : 64); }
  // Bytes of one group of an activation row: values, scales[16], init[16], and dx·Σx[16].
  size_t act_group_bytes() const { return 16 * size_t(lane_elements) + 192; }
};

// A weight type's place in this layout; a column of the type table (type_kernels.cpp).
struct GemmLanes {
  int lane_elements = 0;  // B: 32, or 16 (a multiple of 16 dividing 256); 0: not packed
  int offset = 0;
  bool has_min = false;
  int max_level = 0;  // largest unsigned level the packer writes
};

// AVX2's vpmaddubsw adds two u8·s8 products into a saturating int16; Q8_0 / Q8_K activations
// are within ±127, so `n` such pair sums of levels up to max_level can be added exactly when:
constexpr bool int16_pair_sums_fit(int max_level, int n) { return n * 2 * 127 * max_level <= 32767; }

// The packed format for weights of `type` with rows of `cols`.
// REQUIRES: the type's row of the type table has lanes.
PackedFormat packed_format(GgmlType type, size_t cols);

// Quantizes one activation row of `cols` floats (as llama.cpp does for the weight type) and
// writes it packed: f.groups * f.act_group_bytes() bytes. `tmp` holds one row of Q8_0 / Q8_K
// blocks (ggml_row_bytes of the activation type).
void pack_activation_row(const PackedFormat& f, const float* x, size_t cols, uint8_t* tmp,
                         uint8_t* dst);

// Writes one weight row of `cols` packed: f.groups * f.weight_group_bytes() bytes, empty lanes
// of a last, partial group zero.
using PackWeightsFn = void (*)(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
// The portable packers (gemm_pack_weights.cpp), for ISAs without gathers.
void pack_weights_q4_0(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_q4_1(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_q5_0(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_q5_1(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_iq4_nl(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_q8_0(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_q2_k(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_q3_k(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_q4_k(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_q5_k(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_q6_k(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);
void pack_weights_iq4_xs(const PackedFormat& f, const uint8_t* row, size_t cols, uint8_t* dst);

// Y[c][r] for `rows` packed weight rows (w, w_row bytes apart) and up to GemmKernels::cols packed
// activation rows (a, a_row bytes apart); writes rows_valid outputs per activation row.
using TileFn = void (*)(const PackedFormat& f, const uint8_t* w, size_t w_row, const uint8_t* a,
                        size_t a_row, float* y, size_t y_stride, int rows_valid);

// One ISA's half of the packed GEMM.
struct GemmKernels {
  int rows;  // weight rows per panel
  int cols;  // activation rows per tile
  PackWeightsFn pack;
  TileFn (*tile)(const PackedFormat& f, int cols);  // the tile for `cols` (1..cols) rows
};

// The rest, shared by every ISA: packs the activations, splits the weight rows into panels
// across `pool`, packs each panel once and runs every token through it. Arguments as for
// modelswarm::matmul; `f` is packed_format(w.type, w.cols).
void gemm_packed(const PackedFormat& f, const GemmKernels& k, const MatrixView& w, const float* x,
                 size_t m, size_t x_stride, float* y, size_t y_stride, ThreadPool* pool);

}  // namespace modelswarm::kernels
