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
uint64_t layer_bytes(const LayerWeights& l) {
  uint64_t b = 0;
  for (const WeightTensor* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_norm, &l.ffn_gate,
                                &l.ffn_up, &l.ffn_down, &l.bq, &l.bk, &l.bv})
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
