// SentencePiece-style encoding as llama.cpp does it: start from UTF-8 characters, repeatedly
// merge the adjacent pair whose concatenation is the highest-scoring token (leftmost on ties),
// then split any symbol that is not a token back along its merges, down to byte tokens.
#include <queue>

#include "infer/tokenizer_impl.hpp"
#include "infer/unicode.hpp"

namespace modelswarm {

namespace {

struct Symbol {
  int prev, next;
  size_t offset, len;  // into the text
};

struct Bigram {
  int left, right;
  float score;
  size_t len;  // of the merged text, to detect stale entries
  bool operator<(const Bigram& o) const {
    return score < o.score || (score == o.score && left > o.left);
  }
};

}  // namespace

void Tokenizer::Impl::encode_spm(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<Symbol> sym;
  for (size_t i = 0; i < text.size();) {
    size_t n = std::min(infer::utf8_seq_len(static_cast<unsigned char>(text[i])), text.size() - i);
    int idx = static_cast<int>(sym.size());
    sym.push_back({idx - 1, idx + 1, i, n});
    i += n;
  }
  if (sym.empty()) return;
  sym.back().next = -1;

  std::priority_queue<Bigram> queue;
  std::unordered_map<std::string, std::pair<std::string, std::string>> rev_merge;
  auto try_add = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    std::string_view merged = text.substr(sym[l].offset, sym[l].len + sym[r].len);
    int32_t id = lookup(merged);
    if (id < 0) return;
    queue.push({l, r, score(id), merged.size()});
    rev_merge.emplace(std::string(merged),
                      std::make_pair(std::string(text.substr(sym[l].offset, sym[l].len)),
                                     std::string(text.substr(sym[r].offset, sym[r].len))));
  };
  for (size_t i = 1; i < sym.size(); ++i) try_add(static_cast<int>(i) - 1, static_cast<int>(i));

  while (!queue.empty()) {
    Bigram b = queue.top();
    queue.pop();
    Symbol& l = sym[b.left];
    Symbol& r = sym[b.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != b.len) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }

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
