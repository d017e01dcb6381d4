// The per-tensor rules of llama.cpp's K-quant mixes (quant_mix.hpp) on llama-shaped layer
// lists: which layers get more bits, the output matrix, fused QKV, 70B-class and falcon
// special cases, and the fallbacks for rows that are not whole blocks.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "modelswarm/quant_mix.hpp"

using namespace modelswarm;

namespace {

// A llama-style model of n_layer blocks, 2048 wide (whole K-quant blocks everywhere).
struct Model {
  uint32_t n_layer = 22;
  std::string arch = "llama";
  uint32_t n_head = 32, n_head_kv = 4;
  bool has_output = true;
  uint64_t cols = 2048;

  GgmlType type(QuantMix mix, const std::string& name, uint32_t n_dims = 2) const {
    QuantMixTensor t;
    t.name = name;
    t.n_dims = n_dims;
    t.cols = cols;
    const auto layer = gguf_block_index(name);
    t.layer = layer ? int64_t(*layer) : -1;
    t.n_layer = n_layer;
    t.arch = arch;
    t.n_head = n_head;
    t.n_head_kv = n_head_kv;
    t.has_output = has_output;
    return quant_mix_tensor_type(mix, t);
  }
  // Layers whose `tensor` ("attn_v") gets `want`.
  std::set<uint32_t> layers_of(QuantMix mix, const std::string& tensor, GgmlType want) const {
    std::set<uint32_t> out;
    for (uint32_t l = 0; l < n_layer; ++l)
      if (type(mix, "blk." + std::to_string(l) + "." + tensor + ".weight") == want) out.insert(l);
    return out;
  }
};

std::set<uint32_t> all_layers(uint32_t n) {
  std::set<uint32_t> s;
  for (uint32_t l = 0; l < n; ++l) s.insert(l);
  return s;
}

}  // namespace

TEST_CASE("mix names and llama.cpp file types") {
  const std::pair<const char*, uint32_t> want[] = {{"Q3_K_S", 11}, {"Q3_K_M", 12}, {"Q3_K_L", 13}, {"Q4_K_S", 14},
                                                   {"Q4_K_M", 15}, {"Q5_K_S", 16}, {"Q5_K_M", 17}};
  REQUIRE(quant_mixes().size() == std::size(want));
  for (const auto& [name, ftype] : want) {
    CAPTURE(name);
    auto m = quant_mix_from_name(name);
    REQUIRE(m);
    CHECK(quant_mix_info(*m).name == name);
    CHECK(quant_mix_info(*m).file_type == ftype);
  }
  CHECK(quant_mix_info(QuantMix::Q3_K_M).base == GgmlType::Q3_K);
  CHECK(quant_mix_info(QuantMix::Q4_K_S).base == GgmlType::Q4_K);
  CHECK(quant_mix_info(QuantMix::Q5_K_M).base == GgmlType::Q5_K);
  CHECK_FALSE(quant_mix_from_name("Q4_K"));
  CHECK_FALSE(quant_mix_from_name("q4_k_m"));
  CHECK(quant_mix_names(" ") == "Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M");
}

TEST_CASE("block index of a GGUF name") {
  CHECK(gguf_block_index("blk.0.attn_q.weight") == 0u);
  CHECK(gguf_block_index("blk.17.ffn_down.weight") == 17u);
  CHECK_FALSE(gguf_block_index("output.weight"));
  CHECK_FALSE(gguf_block_index("blk..attn_q.weight"));
  CHECK_FALSE(gguf_block_index("blk.3"));
  CHECK_FALSE(gguf_block_index("blk.3x.attn_q.weight"));
}

TEST_CASE("Q4_K_M and Q5_K_M on 22 layers (TinyLlama's shape): Q6_K attn_v and ffn_down on more-bits layers") {
  const Model m;
  // First eighth (0, 1), last eighth (19..21) and every third between (4, 7, ..., 16).
  const std::set<uint32_t> more = {0, 1, 4, 7, 10, 13, 16, 19, 20, 21};
  for (QuantMix mix : {QuantMix::Q4_K_M, QuantMix::Q5_K_M}) {
    const GgmlType base = quant_mix_info(mix).base;
    CAPTURE(quant_mix_info(mix).name);
    CHECK(m.layers_of(mix, "attn_v", GgmlType::Q6_K) == more);
    CHECK(m.layers_of(mix, "ffn_down", GgmlType::Q6_K) == more);
    CHECK(m.layers_of(mix, "attn_v", base).size() == 22 - more.size());
    CHECK(m.layers_of(mix, "ffn_down", base).size() == 22 - more.size());
    for (const char* t : {"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"})
      CHECK(m.layers_of(mix, t, base) == all_layers(22));
    CHECK(m.type(mix, "output.weight") == GgmlType::Q6_K);
    CHECK(m.type(mix, "token_embd.weight") == base);
    CHECK(m.type(mix, "blk.3.attn_norm.weight", 1) == GgmlType::F32);
    CHECK(m.type(mix, "output_norm.weight", 1) == GgmlType::F32);
  }
  // Fused QKV (phi-style) gets one step up.
  CHECK(m.type(QuantMix::Q4_K_M, "blk.0.attn_qkv.weight") == GgmlType::Q5_K);
  CHECK(m.type(QuantMix::Q5_K_M, "blk.0.attn_qkv.weight") == GgmlType::Q6_K);
}

TEST_CASE("Q3_K_S/M/L, Q4_K_S, Q5_K_S on 22 layers") {
  const Model m;
  using G = GgmlType;
  // Q3_K_M: attn_v Q5_K in the first 2 layers, ffn_down Q5_K in the first sixteenth (layer 0).
  CHECK(m.layers_of(QuantMix::Q3_K_M, "attn_v", G::Q5_K) == std::set<uint32_t>{0, 1});
  CHECK(m.layers_of(QuantMix::Q3_K_M, "attn_v", G::Q4_K).size() == 20);
  CHECK(m.layers_of(QuantMix::Q3_K_M, "ffn_down", G::Q5_K) == std::set<uint32_t>{0});
  CHECK(m.layers_of(QuantMix::Q3_K_M, "ffn_down", G::Q4_K).size() == 21);
  CHECK(m.layers_of(QuantMix::Q3_K_M, "attn_output", G::Q4_K) == all_layers(22));
  CHECK(m.layers_of(QuantMix::Q3_K_M, "ffn_up", G::Q3_K) == all_layers(22));
  CHECK(m.type(QuantMix::Q3_K_M, "blk.0.attn_qkv.weight") == G::Q4_K);
  CHECK(m.type(QuantMix::Q3_K_M, "output.weight") == G::Q6_K);
  CHECK(m.type(QuantMix::Q3_K_M, "token_embd.weight") == G::Q3_K);
  // Q3_K_L: attn_v, ffn_down, attn_output Q5_K throughout.
  for (const char* t : {"attn_v", "ffn_down", "attn_output"})
    CHECK(m.layers_of(QuantMix::Q3_K_L, t, G::Q5_K) == all_layers(22));
  CHECK(m.layers_of(QuantMix::Q3_K_L, "attn_q", G::Q3_K) == all_layers(22));
  // Q4_K_S: attn_v Q5_K in the first 4 layers, ffn_down in the first eighth.
  CHECK(m.layers_of(QuantMix::Q4_K_S, "attn_v", G::Q5_K) == std::set<uint32_t>{0, 1, 2, 3});
  CHECK(m.layers_of(QuantMix::Q4_K_S, "ffn_down", G::Q5_K) == std::set<uint32_t>{0, 1});
  CHECK(m.layers_of(QuantMix::Q4_K_S, "attn_output", G::Q4_K) == all_layers(22));
  // The _S mixes of Q3_K and Q5_K: the base type everywhere but the output.
  for (QuantMix mix : {QuantMix::Q3_K_S, QuantMix::Q5_K_S}) {
    const G base = quant_mix_info(mix).base;
    for (const char* t : {"attn_q", "attn_v", "attn_output", "ffn_down", "ffn_up"})
      CHECK(m.layers_of(mix, t, base) == all_layers(22));
    CHECK(m.type(mix, "output.weight") == G::Q6_K);
  }
}

TEST_CASE("tied output: token_embd is quantized as the output") {
  Model m;
  m.has_output = false;
  for (const auto& info : quant_mixes()) CHECK(m.type(info.mix, "token_embd.weight") == GgmlType::Q6_K);
}

TEST_CASE("rows that are not whole blocks fall back as llama.cpp does") {
  Model m;
  using G = GgmlType;
  m.cols = 96;  // whole 32-element blocks, not 256-element ones
  CHECK(m.type(QuantMix::Q4_K_M, "blk.5.attn_q.weight") == G::Q5_0);     // Q4_K
  CHECK(m.type(QuantMix::Q4_K_M, "blk.0.ffn_down.weight") == G::Q8_0);   // Q6_K
  CHECK(m.type(QuantMix::Q5_K_M, "blk.5.ffn_down.weight") == G::Q5_1);   // Q5_K
  CHECK(m.type(QuantMix::Q3_K_M, "blk.5.ffn_up.weight") == G::IQ4_NL);   // Q3_K
  CHECK(m.type(QuantMix::Q4_K_M, "output.weight") == G::Q8_0);
  CHECK(m.type(QuantMix::Q4_K_M, "token_embd.weight") == G::Q5_0);
  m.cols = 40;  // not even 32-element blocks
  for (const auto& info : quant_mixes()) {
    CHECK(m.type(info.mix, "blk.0.attn_v.weight") == G::F16);
    CHECK(m.type(info.mix, "output.weight") == G::F16);
  }
}

TEST_CASE("70B-class models give attn_v Q5_K where the rule left Q3_K or Q4_K") {
  Model m;
  m.n_layer = 80;
  m.n_head = 64;
  m.n_head_kv = 8;
  using G = GgmlType;
  // Layer 11 is not a more-bits layer of 80 (10 + 3k + 2 are), layer 12 is.
  CHECK(m.type(QuantMix::Q4_K_M, "blk.11.attn_v.weight") == G::Q5_K);
  CHECK(m.type(QuantMix::Q4_K_M, "blk.12.attn_v.weight") == G::Q6_K);
  CHECK(m.type(QuantMix::Q3_K_S, "blk.40.attn_v.weight") == G::Q5_K);
  CHECK(m.type(QuantMix::Q4_K_M, "blk.11.attn_q.weight") == G::Q4_K);
  m.n_head_kv = 64;  // no grouped-query attention: llama.cpp's 65B class
  CHECK(m.type(QuantMix::Q4_K_M, "blk.11.attn_v.weight") == G::Q4_K);
  m.arch = "qwen2";  // every 80-block qwen2 is 70B-class
  CHECK(m.type(QuantMix::Q4_K_M, "blk.11.attn_v.weight") == G::Q5_K);
}

TEST_CASE("falcon's own ffn_down and attn_output rules") {
  Model m;
  m.arch = "falcon";
  m.n_layer = 32;
  using G = GgmlType;
  CHECK(m.layers_of(QuantMix::Q4_K_M, "ffn_down", G::Q6_K) == std::set<uint32_t>{0, 1});
  CHECK(m.type(QuantMix::Q4_K_M, "blk.6.ffn_down.weight") == G::Q5_K);  // more bits: 4 + 2
  CHECK(m.type(QuantMix::Q4_K_M, "blk.5.ffn_down.weight") == G::Q4_K);
  CHECK(m.type(QuantMix::Q3_K_M, "blk.5.ffn_down.weight") == G::Q3_K);
  CHECK(m.type(QuantMix::Q3_K_L, "blk.5.ffn_down.weight") == G::Q4_K);
  CHECK(m.type(QuantMix::Q3_K_L, "blk.5.attn_output.weight") == G::Q4_K);
  CHECK(m.type(QuantMix::Q3_K_M, "blk.5.attn_output.weight") == G::Q3_K);
  CHECK(m.type(QuantMix::Q4_K_M, "output.weight") == G::Q8_0);
}
