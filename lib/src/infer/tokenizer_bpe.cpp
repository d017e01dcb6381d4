// Byte-level BPE as llama.cpp does it: pre-tokenize into words, map each byte of a word to its
// GPT-2 printable codepoint, then repeatedly merge the adjacent pair of lowest merge rank
// (leftmost on ties). A final symbol that is not a token falls back to its characters' tokens.
#include "infer/merge_pairs.hpp"
#include "infer/tokenizer_impl.hpp"
#include "infer/unicode.hpp"
#include "util/utf8.hpp"

namespace modelswarm {

const std::array<std::string, 256>& byte_to_unicode() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      utf8::append(t[b], printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(next++));
    }
    return t;
  }();
  return table;
}

const std::unordered_map<std::string, uint8_t>& unicode_to_byte() {
  static const std::unordered_map<std::string, uint8_t> table = [] {
    std::unordered_map<std::string, uint8_t> t;
    const auto& fwd = byte_to_unicode();
    for (int b = 0; b < 256; ++b) t.emplace(fwd[b], static_cast<uint8_t>(b));
    return t;
  }();
  return table;
}

void Tokenizer::Impl::bpe_word(std::string_view word, std::vector<int32_t>& out) const {
  const auto& b2u = byte_to_unicode();
  std::string mapped;
  std::vector<infer::MergeSymbol> sym;
  for (unsigned char c : word) {
    sym.push_back({-1, -1, mapped.size(), b2u[c].size()});
    mapped += b2u[c];
  }
  if (sym.empty()) return;
  if (ignore_merges) {
    int32_t id = lookup(mapped);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }

  std::string key;
  // The lowest merge rank merges first.
  infer::merge_pairs(sym, [&](const infer::MergeSymbol& l, const infer::MergeSymbol& r) -> std::optional<double> {
    key.assign(mapped, l.offset, l.len);
    key += ' ';
    key.append(mapped, r.offset, r.len);
    auto it = merge_rank.find(key);
    if (it == merge_rank.end()) return std::nullopt;
    return -static_cast<double>(it->second);
  });

  for (int i = 0; i != -1; i = sym[i].next) {
    if (sym[i].len == 0) continue;
    std::string_view s(mapped.data() + sym[i].offset, sym[i].len);
    int32_t id = lookup(s);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (size_t k = 0; k < s.size();) {
      size_t n = std::min(utf8::sequence_length(static_cast<unsigned char>(s[k])), s.size() - k);
      int32_t t = lookup(s.substr(k, n));
      if (t < 0) t = vocab.unk;
      if (t >= 0) out.push_back(t);
      k += n;
    }
  }
}

void Tokenizer::Impl::encode_bpe(std::string_view text, std::vector<int32_t>& out) const {
  for (std::string_view word : infer::pretokenize(pre, text)) bpe_word(word, out);
}

}  // namespace modelswarm
