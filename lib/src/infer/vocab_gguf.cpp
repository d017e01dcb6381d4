// tokenizer.ggml.* metadata -> Vocab.
#include "modelswarm/gguf.hpp"
#include "modelswarm/infer.hpp"
#include "modelswarm/metadata.hpp"

namespace modelswarm {

namespace {
// -1 when absent. Any id that cannot index the vocabulary is the same error, whether it is just
// past the end (checked against the token count by the tokenizer) or far past it.
Result<int32_t> id_or(const Metadata& md, std::string_view key) {
  const MetaValue* v = md.find(key);
  if (!v) return -1;
  auto x = v->as_i64();
  if (!x) return Error::format(std::string(key) + ": not an integer");
  if (*x < 0 || *x > INT32_MAX)
    return Error::format("special token id " + std::to_string(*x) + " (" + std::string(key) + ") out of range");
  return static_cast<int32_t>(*x);
}
}  // namespace

Result<Vocab> vocab_from_metadata(const Metadata& md) {
  Vocab v;
  MS_ASSIGN_OR_RETURN(v.model, md.get_string("tokenizer.ggml.model"));
  v.pre = md.string_or("tokenizer.ggml.pre", "");
  MS_ASSIGN_OR_RETURN(auto tokens, md.get_string_array("tokenizer.ggml.tokens"));
  v.tokens.assign(tokens.begin(), tokens.end());
  if (md.contains("tokenizer.ggml.scores")) {
    MS_ASSIGN_OR_RETURN(v.scores, md.get_f32_array("tokenizer.ggml.scores"));
  }
  if (md.contains("tokenizer.ggml.token_type")) {
    MS_ASSIGN_OR_RETURN(v.types, md.get_i32_array("tokenizer.ggml.token_type"));
  }
  if (md.contains("tokenizer.ggml.merges")) {
    MS_ASSIGN_OR_RETURN(auto merges, md.get_string_array("tokenizer.ggml.merges"));
    v.merges.assign(merges.begin(), merges.end());
  }
  MS_ASSIGN_OR_RETURN(v.bos, id_or(md, "tokenizer.ggml.bos_token_id"));
  MS_ASSIGN_OR_RETURN(v.eos, id_or(md, "tokenizer.ggml.eos_token_id"));
  MS_ASSIGN_OR_RETURN(v.unk, id_or(md, "tokenizer.ggml.unknown_token_id"));
  MS_ASSIGN_OR_RETURN(v.eot, id_or(md, "tokenizer.ggml.eot_token_id"));
  if (const MetaValue* b = md.find("tokenizer.ggml.add_bos_token")) v.add_bos = b->as_bool();
  if (const MetaValue* b = md.find("tokenizer.ggml.add_eos_token")) v.add_eos = b->as_bool().value_or(false);
  v.add_space_prefix = v.model == "llama";
  if (const MetaValue* b = md.find("tokenizer.ggml.add_space_prefix"))
    v.add_space_prefix = b->as_bool().value_or(v.add_space_prefix);
  if (const MetaValue* b = md.find("tokenizer.ggml.normalizer.nfc")) v.normalize_nfc = b->as_bool().value_or(false);
  return v;
}

}  // namespace modelswarm
