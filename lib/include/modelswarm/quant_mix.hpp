// llama.cpp's K-quant "mixes" (Q4_K_M and its kin): file types whose matrices get different
// GGML types by role and depth, as llama.cpp's quantizer assigns them when it has no importance
// matrix. Its rules are restated here as facts of that format family:
//   - the output matrix (token_embd when the output is tied to it) is Q6_K, or Q8_0 when its
//     rows are not whole 256-element blocks;
//   - "more bits" layers are the first and last eighth of the blocks and every third one
//     between them; Q4_K_M and Q5_K_M store attn_v and ffn_down of those layers as Q6_K;
//   - Q3_K_M: attn_v Q5_K in the first 2 layers, Q4_K after; ffn_down Q5_K in the first
//     sixteenth, Q4_K after; attn_output Q4_K. Q3_K_L: attn_v, ffn_down, attn_output Q5_K.
//     Q4_K_S: attn_v Q5_K in the first 4 layers, ffn_down Q5_K in the first eighth. Fused
//     attn_qkv: Q4_K for Q3_K_M/L, Q5_K for Q4_K_M, Q6_K for Q5_K_M. 70B-class models (80
//     blocks, grouped-query attention) take attn_v Q5_K where a rule left Q3_K or Q4_K.
//   - a matrix whose rows are not whole blocks of its type falls back: Q2_K/Q3_K/IQ4_XS to
//     IQ4_NL, Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, and to F16 when 32 does not divide
//     the row either.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "modelswarm/ggml_type.hpp"

namespace modelswarm {

enum class QuantMix : uint8_t { Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M };

struct QuantMixInfo {
  QuantMix mix = QuantMix::Q4_K_M;
  std::string_view name;   // "Q4_K_M", as llama.cpp's quantize tool names it
  uint32_t file_type = 0;  // llama.cpp's llama_ftype: general.file_type of the files written
  GgmlType base = GgmlType::Q4_K;  // the type of every matrix no rule raises
};

// Every mix, in llama_ftype order.
std::span<const QuantMixInfo> quant_mixes();
const QuantMixInfo& quant_mix_info(QuantMix mix);
std::optional<QuantMix> quant_mix_from_name(std::string_view name);
// Their names joined by `sep` ("Q3_K_S, Q3_K_M, ...").
std::string quant_mix_names(std::string_view sep = ", ");

// A tensor of the model being quantized, and what the rules need to know about the model.
struct QuantMixTensor {
  std::string_view name;  // GGUF name: "token_embd.weight", "blk.3.attn_v.weight"
  uint32_t n_dims = 2;    // 1 for norms and biases
  uint64_t cols = 0;      // row length (GGUF ne[0])
  int64_t layer = -1;     // N of "blk.N.", -1 outside the blocks (gguf_block_index)
  uint32_t n_layer = 0;   // {arch}.block_count
  std::string_view arch;  // general.architecture
  uint32_t n_head = 0, n_head_kv = 0;
  bool has_output = true;  // false: no output.weight, the output is token_embd
};

// The GGML type `mix` gives the tensor: F32 for 1-D tensors, else the rules above.
GgmlType quant_mix_tensor_type(QuantMix mix, const QuantMixTensor& t);

// N of a name "blk.N.<rest>", or nullopt.
std::optional<uint32_t> gguf_block_index(std::string_view name);

}  // namespace modelswarm
