// Rotary position embedding with ggml's arithmetic: theta starts at the position and is
// multiplied by base^(-2/n_rot) per pair in float; linear scaling multiplies theta by
// freq_scale; llama3-style factors divide it per pair.
#pragma once

#include <cstdint>
#include <vector>

#include "modelswarm/infer.hpp"

namespace modelswarm::infer {

// cos/sin of every pair for one position: out[2i] = cos, out[2i+1] = sin; n_rot floats.
// `base` and `scale` are the layer's (gemma3's local layers have their own).
void rope_cache(uint32_t n_rot, float base, float scale, const float* freq_factors, uint32_t pos, float* out);

// Rotates the first n_rot dimensions of each of `n_heads` heads (head_dim apart) in place.
void rope_apply(float* x, uint32_t n_heads, uint32_t head_dim, uint32_t n_rot, RopeMode mode,
                const float* cache);

}  // namespace modelswarm::infer
