// The 16 non-uniform levels of the IQ4_NL / IQ4_XS formats, a constant of the GGUF file format
// (llama.cpp's kvalues_iq4nl): a nibble q stands for kIq4Codebook[q] times its block's scale.
#pragma once

#include <cstdint>

namespace modelswarm::kernels {

inline constexpr int8_t kIq4Codebook[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

}  // namespace modelswarm::kernels
