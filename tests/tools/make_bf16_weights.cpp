// Writes a safetensors file of BF16 weights shaped like a small llama-style model, for the bundle
// benchmark: each matrix row is gaussian with its own log-normal scale (as trained weights look:
// a narrow, row-dependent exponent range and near-random mantissa bits), norm vectors near 1.0.
//
//   make_bf16_weights OUT.safetensors SIZE_MIB [SEED]
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "modelswarm/quant.hpp"

namespace {

struct Tensor {
  std::string name;
  uint64_t rows, cols;
};

void fill_rows(std::vector<uint16_t>& out, uint64_t rows, uint64_t cols, uint64_t seed, bool norm) {
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::mt19937_64 rng(seed * 1315423911u + t);
      std::normal_distribution<float> nd(0.0f, 1.0f);
      std::lognormal_distribution<float> scale(-3.9f, 0.45f);
      for (uint64_t r = t; r < rows; r += threads) {
        float s = scale(rng);
        for (uint64_t c = 0; c < cols; ++c) {
          float v = norm ? 1.0f + 0.05f * nd(rng) : nd(rng) * s;
          out[r * cols + c] = modelswarm::fp32_to_bf16(v);
        }
      }
    });
  }
  for (auto& th : pool) th.join();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: make_bf16_weights OUT.safetensors SIZE_MIB [SEED]\n");
    return 2;
  }
  uint64_t target = std::strtoull(argv[2], nullptr, 10) << 20;
  uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1;
  const uint64_t hidden = 2048, ffn = 5632, vocab = 32000;

  std::vector<Tensor> tensors{{"model.embed_tokens.weight", vocab, hidden}};
  uint64_t bytes = vocab * hidden * 2;
  for (int layer = 0; bytes < target; ++layer) {
    std::string p = "model.layers." + std::to_string(layer) + ".";
    std::vector<Tensor> block{{p + "input_layernorm.weight", 1, hidden},
                              {p + "self_attn.q_proj.weight", hidden, hidden},
                              {p + "self_attn.k_proj.weight", hidden / 4, hidden},
                              {p + "self_attn.v_proj.weight", hidden / 4, hidden},
                              {p + "self_attn.o_proj.weight", hidden, hidden},
                              {p + "post_attention_layernorm.weight", 1, hidden},
                              {p + "mlp.gate_proj.weight", ffn, hidden},
                              {p + "mlp.up_proj.weight", ffn, hidden},
                              {p + "mlp.down_proj.weight", hidden, ffn}};
    for (auto& t : block) {
      tensors.push_back(t);
      bytes += t.rows * t.cols * 2;
    }
  }

  nlohmann::json header = {{"__metadata__", {{"format", "pt"}}}};
  uint64_t off = 0;
  for (auto& t : tensors) {
    uint64_t n = t.rows * t.cols * 2;
    nlohmann::json shape = t.rows == 1 ? nlohmann::json{t.cols} : nlohmann::json{t.rows, t.cols};
    header[t.name] = {{"dtype", "BF16"}, {"shape", shape}, {"data_offsets", {off, off + n}}};
    off += n;
  }
  std::string h = header.dump();
  while ((8 + h.size()) % 8) h.push_back(' ');  // keep tensor data 8-byte aligned

  FILE* f = std::fopen(argv[1], "wb");
  if (!f) {
    std::perror(argv[1]);
    return 1;
  }
  uint64_t hlen = h.size();
  uint8_t le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(hlen >> (8 * i));
  bool ok = std::fwrite(le, 1, 8, f) == 8 && std::fwrite(h.data(), 1, h.size(), f) == h.size();
  std::vector<uint16_t> buf;
  uint64_t i = 0;
  for (auto& t : tensors) {
    buf.assign(t.rows * t.cols, 0);
    fill_rows(buf, t.rows, t.cols, seed + i++, t.rows == 1);
    ok = ok && std::fwrite(buf.data(), 2, buf.size(), f) == buf.size();
  }
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::fprintf(stderr, "%s: write failed\n", argv[1]);
    return 1;
  }
  std::printf("%s: %zu tensors, %llu bytes\n", argv[1], tensors.size(),
              static_cast<unsigned long long>(8 + h.size() + off));
  return 0;
}
