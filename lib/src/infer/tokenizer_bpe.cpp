// Byte-level BPE as llama.cpp does it: pre-tokenize into words, map each byte of a word to its
// GPT-2 printable codepoint, then repeatedly merge the adjacent pair of lowest merge rank
// (leftmost on ties). A final symbol that is not a token falls back to its characters' tokens.
#include <queue>

#include "infer/tokenizer_impl.hpp"
#include "infer/unicode.hpp"

namespace modelswarm {

const std::array<std::string, 256>& byte_to_unicode() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      infer::utf8_append(t[b], printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(next++));
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

namespace {

struct Symbol {
  int prev, next;
  size_t offset, len;  // into the mapped word
};

struct Bigram {
  int left, right;
  int32_t rank;
  size_t len;
  bool operator<(const Bigram& o) const {  // priority_queue pops the greatest: lowest rank first
    return rank > o.rank || (rank == o.rank && left > o.left);
  }
};

}  // namespace

void Tokenizer::Impl::bpe_word(std::string_view word, std::vector<int32_t>& out) const {
  const auto& b2u = byte_to_unicode();
  std::string mapped;
  std::vector<Symbol> sym;
  for (unsigned char c : word) {
    int idx = static_cast<int>(sym.size());
    sym.push_back({idx - 1, idx + 1, mapped.size(), b2u[c].size()});
    mapped += b2u[c];
  }
  if (sym.empty()) return;
  sym.back().next = -1;
  if (ignore_merges) {
    int32_t id = lookup(mapped);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }

  std::priority_queue<Bigram> queue;
  std::string key;
  auto try_add = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    key.assign(mapped, sym[l].offset, sym[l].len);
    key += ' ';
    key.append(mapped, sym[r].offset, sym[r].len);
    auto it = merge_rank.find(key);
    if (it == merge_rank.end()) return;
    queue.push({l, r, it->second, sym[l].len + sym[r].len});
  };
  for (size_t i = 1; i < sym.size(); ++i) try_add(static_cast<int>(i) - 1, static_cast<int>(i));

  while (!queue.empty()) {
    Bigram b = queue.top();
    queue.pop();
    Symbol& l = sym[b.left];
    Symbol& r = sym[b.right];
    if (l.len == 0 || r.len == 0 || l.next != b.right || l.len + r.len != b.len) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }

  for (int i = 0; i != -1; i = sym[i].next) {
    if (sym[i].len == 0) continue;
    std::string_view s(mapped.data() + sym[i].offset, sym[i].len);
    int32_t id = lookup(s);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (size_t k = 0; k < s.size();) {
      size_t n = std::min(infer::utf8_seq_len(static_cast<unsigned char>(s[k])), s.size() - k);
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
