// BPE pre-tokenizers: split text into words before merges, as the regular expression named by
// `tokenizer.ggml.pre` does. Each is a hand-written matcher for one fixed expression.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace modelswarm::infer {

enum class PreTokenizer {
  kGpt2,    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kLlama3,  // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
            //  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
  kQwen2,   // as kLlama3 with \p{N} (one digit per word)
  kSmolLM,  // every digit its own word, then kGpt2
};

// Names as written by llama.cpp's converter; an empty name means the GPT-2 expression.
std::optional<PreTokenizer> pretokenizer_from_name(std::string_view name);

std::vector<std::string_view> pretokenize(PreTokenizer kind, std::string_view text);

}  // namespace modelswarm::infer
