// Tokenizers of GGUF models: SentencePiece-style (`tokenizer.ggml.model` = "llama": score-ordered
// merges, byte fallback <0xNN>, leading-space marker U+2581) and byte-level BPE ("gpt2": ranked
// merges after the pre-tokenizer that `tokenizer.ggml.pre` names). Encodings follow llama.cpp's.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "modelswarm/error.hpp"

namespace modelswarm {

// As numbered in `tokenizer.ggml.token_type`.
enum class TokenType : int32_t {
  undefined = 0, normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6,
};

// The tokenizer's data, as a GGUF file stores it (see vocab_from_gguf in infer.hpp).
struct Vocab {
  std::string model;                 // "llama" (SentencePiece) or "gpt2" (byte-level BPE)
  std::string pre;                   // BPE pre-tokenizer: "llama-bpe", "qwen2", "smollm", "gpt2"
  std::vector<std::string> tokens;
  std::vector<float> scores;         // SentencePiece merge priorities (empty: all 0)
  std::vector<int32_t> types;        // TokenType per token (empty: all normal)
  std::vector<std::string> merges;   // BPE: "left right", best rank first
  int32_t bos = -1, eos = -1, unk = -1, eot = -1;
  std::optional<bool> add_bos;       // unset: true for SentencePiece, false for BPE
  bool add_eos = false;
  bool add_space_prefix = true;      // SentencePiece: prepend U+2581 to the text
  // Compose text to Unicode NFC before splitting it (tokenizer.json's "NFC" normalizer; GGUF
  // key tokenizer.ggml.normalizer.nfc). llama.cpp has no such key and does not normalize.
  bool normalize_nfc = false;
};

class Tokenizer {
 public:
  // Checks the vocabulary (ids in range, known model and pre-tokenizer, well-formed merges).
  // `source` names the file in error messages.
  static Result<Tokenizer> create(Vocab vocab, std::string_view source = "vocabulary");

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // add_special: BOS/EOS as the vocabulary asks. parse_special: text spelling a control token
  // (e.g. "<|eot_id|>") becomes that token; user-defined tokens are always matched.
  std::vector<int32_t> encode(std::string_view text, bool add_special = true,
                              bool parse_special = true) const;

  // Bytes that token `id` stands for (control tokens: empty, unless `special`). May be part of a
  // UTF-8 sequence (byte tokens). Out-of-range ids give an empty string.
  std::string piece(int32_t id, bool special = false) const;
  // Whole text of a sequence; drops the space that encode() prefixed for SentencePiece.
  std::string decode(std::span<const int32_t> ids, bool special = false) const;

  int32_t n_vocab() const;
  int32_t bos() const;
  int32_t eos() const;
  bool is_end_of_generation(int32_t id) const;  // eos, eot
  bool adds_bos() const;
  const std::string& token_text(int32_t id) const;  // REQUIRES: 0 <= id < n_vocab()
  std::optional<int32_t> find(std::string_view text) const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The words the BPE pre-tokenizer `pre` ("llama-bpe", "qwen2", "smollm", "gpt2") splits `text`
// into before merges; for inspecting tokenization.
Result<std::vector<std::string>> pretokenize_text(std::string_view pre, std::string_view text);

// Streams pieces to text: holds back an incomplete UTF-8 sequence until its last byte arrives.
class Utf8Streamer {
 public:
  // Returns the bytes that are now complete (possibly empty).
  std::string push(std::string_view bytes);
  // Whatever is still held back (an invalid tail), at the end of the stream.
  std::string flush();

 private:
  std::string pending_;
};

}  // namespace modelswarm
