// SentencePiece-style encoding as llama.cpp does it: start from UTF-8 characters, repeatedly
// merge the adjacent pair whose concatenation is the highest-scoring token (leftmost on ties),
// then split any symbol that is not a token back along its merges, down to byte tokens.
#include "infer/merge_pairs.hpp"
#include "infer/tokenizer_impl.hpp"
#include "infer/unicode.hpp"
#include "util/utf8.hpp"

namespace modelswarm {

void Tokenizer::Impl::encode_spm(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<infer::MergeSymbol> sym;
  for (size_t i = 0; i < text.size();) {
    size_t n = std::min(utf8::sequence_length(static_cast<unsigned char>(text[i])), text.size() - i);
    sym.push_back({-1, -1, i, n});
    i += n;
  }
  if (sym.empty()) return;

  // The pair whose concatenation is the highest-scoring token merges first; every merge is
  // remembered so that a symbol that is no token can be split back along it.
  std::unordered_map<std::string, std::pair<std::string, std::string>> rev_merge;
  infer::merge_pairs(sym, [&](const infer::MergeSymbol& l, const infer::MergeSymbol& r) -> std::optional<double> {
    std::string_view merged = text.substr(l.offset, l.len + r.len);
    int32_t id = lookup(merged);
    if (id < 0) return std::nullopt;
    rev_merge.emplace(std::string(merged), std::make_pair(std::string(text.substr(l.offset, l.len)),
                                                          std::string(text.substr(r.offset, r.len))));
    return static_cast<double>(score(id));
  });

  // Symbols that are not tokens are split back along the merges that built them.
  auto resegment = [&](auto& self, std::string_view piece) -> void {
    int32_t id = lookup(piece);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
    auto it = rev_merge.find(std::string(piece));
    if (it == rev_merge.end()) {
      for (unsigned char c : piece) {
        int32_t t = byte_token[c];
        if (t < 0) t = vocab.unk;
        if (t >= 0) out.push_back(t);
      }
      return;
    }
    const auto& parts = it->second;
    self(self, parts.first);
    self(self, parts.second);
  };
  for (int i = 0; i != -1; i = sym[i].next) {
    if (sym[i].len == 0) continue;
    resegment(resegment, text.substr(sym[i].offset, sym[i].len));
  }
}

}  // namespace modelswarm
