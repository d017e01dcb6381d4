#include "modelswarm/infer.hpp"

#include "modelswarm/kernels.hpp"

namespace modelswarm {

Model::Model(ModelConfig config, ModelWeights weights, Tokenizer tokenizer,
             std::shared_ptr<const void> storage, std::string source)
    : config_(std::move(config)),
      weights_(std::move(weights)),
      tokenizer_(std::move(tokenizer)),
      storage_(std::move(storage)),
      source_(std::move(source)) {}

bool weight_type_supported(GgmlType type) { return matmul_supported(type); }

namespace {
constexpr ArchitectureInfo kArchitectures[] = {
    {Architecture::llama, "llama", RopeMode::normal, false, false, false, 0},
    {Architecture::qwen2, "qwen2", RopeMode::neox, true, false, false, 0},
    {Architecture::qwen3, "qwen3", RopeMode::neox, false, true, false, 0},
    // Every 6th layer global, as llama.cpp decides for gemma3 (the GGUF does not say).
    {Architecture::gemma3, "gemma3", RopeMode::neox, false, true, true, 6},
};
}  // namespace

const ArchitectureInfo* find_architecture(std::string_view name) {
  for (const auto& a : kArchitectures)
    if (name == a.name) return &a;
  return nullptr;
}

const ArchitectureInfo& architecture_info(Architecture arch) {
  for (const auto& a : kArchitectures)
    if (a.arch == arch) return a;
  return kArchitectures[0];
}

std::string supported_architectures() {
  std::string s;
  for (const auto& a : kArchitectures) s += (s.empty() ? "" : ", ") + std::string(a.name);
  return s;
}

namespace {
uint64_t layer_bytes(const LayerWeights& l) {
  uint64_t b = 0;
  for (const WeightTensor* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_norm, &l.ffn_gate,
                                &l.ffn_up, &l.ffn_down, &l.bq, &l.bk, &l.bv, &l.q_norm, &l.k_norm,
                                &l.post_attn_norm, &l.post_ffn_norm})
    if (t->present()) b += t->bytes();
  return b;
}
}  // namespace

uint64_t Model::weight_bytes() const {
  uint64_t b = weights_.token_embd.bytes() + weights_.output_norm.bytes();
  if (!weights_.tied_embeddings) b += weights_.output.bytes();
  for (const auto& l : weights_.layers) b += layer_bytes(l);
  return b;
}

uint64_t Model::bytes_per_token() const {
  uint64_t b = weights_.token_embd.row_bytes + weights_.output_norm.bytes() + weights_.output.bytes();
  for (const auto& l : weights_.layers) b += layer_bytes(l);
  return b;
}

}  // namespace modelswarm
