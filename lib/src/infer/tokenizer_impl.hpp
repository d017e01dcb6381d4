// Private state of Tokenizer, shared by the SentencePiece and BPE encoders.
#pragma once

#include <array>
#include <string>
#include <unordered_map>
#include <vector>

#include "infer/pretokenize.hpp"
#include "modelswarm/tokenizer.hpp"

namespace modelswarm {

struct Tokenizer::Impl {
  enum class Kind { kSpm, kBpe } kind = Kind::kSpm;
  Vocab vocab;
  infer::PreTokenizer pre = infer::PreTokenizer::kGpt2;
  bool ignore_merges = false;  // Llama 3: a word that is itself a token skips the merges
  bool add_bos = false;
  std::unordered_map<std::string, int32_t> ids;
  std::unordered_map<std::string, int32_t> merge_rank;  // "left right" -> rank
  std::array<int32_t, 256> byte_token{};                // SentencePiece <0xNN>, -1 if absent
  std::vector<int32_t> specials;                        // matched in text, longest first

  TokenType type(int32_t id) const {
    return vocab.types.empty() ? TokenType::normal : static_cast<TokenType>(vocab.types[id]);
  }
  float score(int32_t id) const { return vocab.scores.empty() ? 0.0f : vocab.scores[id]; }
  int32_t lookup(std::string_view s) const {
    auto it = ids.find(std::string(s));
    return it == ids.end() ? -1 : it->second;
  }

  void encode_spm(std::string_view text, std::vector<int32_t>& out) const;
  void encode_bpe(std::string_view text, std::vector<int32_t>& out) const;
  void bpe_word(std::string_view word, std::vector<int32_t>& out) const;
};

// GPT-2's reversible map from bytes to printable codepoints (as UTF-8), and back.
const std::array<std::string, 256>& byte_to_unicode();
const std::unordered_map<std::string, uint8_t>& unicode_to_byte();

}  // namespace modelswarm
