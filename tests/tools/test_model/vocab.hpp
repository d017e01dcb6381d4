// Small but real tokenizer vocabularies for generated test models.
//   "llama": SentencePiece style as llama.cpp stores it — <unk>, <s>, </s>, byte tokens
//            <0x00>..<0xFF> (type BYTE), then pieces with "▁" for a leading space, scored so
//            that longer, more common pieces merge first.
//   "gpt2":  byte-level BPE — the 256 byte symbols (GPT-2's printable mapping, "Ġ" = space),
//            merged tokens in merge order, the merges list, then <|endoftext|>.
// Deterministic: the same size gives the same vocabulary.
#pragma once

#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace testmodel {

// llama.cpp token types (llama_token_type).
enum TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kByte = 6 };

struct Vocab {
  std::string model;  // "llama" or "gpt2"
  std::vector<std::string> tokens;
  std::vector<float> scores;      // llama only
  std::vector<int32_t> types;
  std::vector<std::string> merges;  // gpt2, and llama (derived) for tokenizer.json: "a b"
  uint32_t bos = 0, eos = 0, unk = 0;
  bool has_unk = false;
};

inline const std::vector<std::string>& common_words() {
  static const std::vector<std::string> w = {
      "the", "of", "and", "to", "in", "is", "was", "that", "for", "it", "with", "as", "on",
      "be", "at", "by", "this", "had", "not", "are", "but", "from", "or", "have", "an", "they",
      "which", "one", "you", "were", "her", "all", "she", "there", "would", "their", "we",
      "him", "been", "has", "when", "who", "will", "more", "no", "if", "out", "so", "said",
      "what", "up", "its", "about", "into", "than", "them", "can", "only", "other", "new",
      "some", "could", "time", "these", "two", "may", "then", "do", "first", "any", "my",
      "now", "such", "like", "our", "over", "man", "me", "even", "most", "made", "after",
      "also", "did", "many", "before", "must", "through", "back", "years", "where", "much",
      "your", "way", "well", "down", "should", "because", "each", "just", "those", "people",
      "how", "too", "little", "state", "good", "very", "make", "world", "still", "own", "see",
      "men", "work", "long", "get", "here", "between", "both", "life", "being", "under",
      "never", "day", "same", "another", "know", "while", "last", "might", "us", "great",
      "old", "year", "off", "come", "since", "against", "go", "came", "right", "used", "take",
      "three", "model", "weights", "peer", "swarm", "token", "hello", "once", "upon", "story",
      "king", "queen", "river", "mountain", "small", "large", "happy", "quick", "brown", "fox",
      "jumps", "lazy", "dog", "cat", "tree", "house", "water", "light", "night", "morning"};
  return w;
}

// GPT-2's byte -> printable code point mapping, as UTF-8 strings.
inline std::vector<std::string> gpt2_byte_symbols() {
  auto utf8 = [](uint32_t cp) {
    std::string s;
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return s;
  };
  std::vector<std::string> sym(256);
  uint32_t extra = 0;
  for (uint32_t b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    sym[b] = utf8(printable ? b : 256 + extra++);
  }
  return sym;
}

// Pieces of a word, left to right: "▁the" -> "▁t", "▁th", "▁the".
inline std::vector<std::string> word_prefixes(const std::string& lead, const std::string& word) {
  std::vector<std::string> out;
  std::string cur = lead;
  for (char c : word) {
    cur += c;
    out.push_back(cur);
  }
  return out;
}

// REQUIRES: size >= 300.
inline Vocab make_llama_vocab(uint32_t size) {
  Vocab v;
  v.model = "llama";
  auto add = [&](std::string t, float score, int32_t type) {
    v.tokens.push_back(std::move(t));
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0, kUnknown);
  add("<s>", 0, kControl);
  add("</s>", 0, kControl);
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  v.has_unk = true;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    add(name, 0, kByte);
  }
  // Candidate pieces in priority order: whole words first so they score highest, then the
  // prefixes that make them reachable by pairwise merges, then single characters.
  const std::string space = "\xe2\x96\x81";  // U+2581
  std::vector<std::string> pieces;
  std::set<std::string> seen;
  auto want = [&](const std::string& p) {
    if (seen.insert(p).second) pieces.push_back(p);
  };
  std::string chars = "etaoinshrdlucmfwypvbgkjqxz";
  for (char c : chars) want(std::string(1, c));
  want(space);
  for (char c : chars) want(space + c);
  for (const auto& w : common_words())
    for (const auto& p : word_prefixes(space, w)) want(p);
  for (const auto& w : common_words())
    for (size_t i = 1; i + 1 < w.size(); ++i) want(w.substr(i, 2));
  for (char c : std::string("ETAOINSHRDLUCMFWYPVBGKJQXZ0123456789.,!?'\"-:;()"))
    want(std::string(1, c));
  for (const auto& w : common_words()) want(w);
  uint32_t room = size - static_cast<uint32_t>(v.tokens.size());
  if (pieces.size() > room) pieces.resize(room);
  // Longer pieces score higher, so merges build words before settling for fragments.
  for (size_t i = 0; i < pieces.size(); ++i)
    add(pieces[i], -static_cast<float>(i) / 10.0f + static_cast<float>(pieces[i].size()), kNormal);
  // Pad to the requested size with unused user-defined tokens (real vocabularies have these).
  for (uint32_t i = 0; v.tokens.size() < size; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "<unused%u>", i);
    add(name, -1000.0f, kUserDefined);
  }
  // Merges for tokenizer.json: every split of a piece into two pieces in the vocabulary,
  // ordered by the merged piece's score.
  std::set<std::string> in_vocab(v.tokens.begin(), v.tokens.end());
  std::vector<std::pair<float, std::string>> merges;
  for (size_t id = 259; id < v.tokens.size(); ++id) {
    const std::string& t = v.tokens[id];
    if (v.types[id] != kNormal) continue;
    for (size_t cut = 1; cut < t.size(); ++cut) {
      // Cut only at UTF-8 character boundaries.
      if ((static_cast<unsigned char>(t[cut]) & 0xC0) == 0x80) continue;
      std::string a = t.substr(0, cut), b = t.substr(cut);
      if (in_vocab.count(a) && in_vocab.count(b)) merges.emplace_back(-v.scores[id], a + " " + b);
    }
  }
  std::stable_sort(merges.begin(), merges.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  for (auto& m : merges) v.merges.push_back(std::move(m.second));
  return v;
}

// REQUIRES: size >= 300.
inline Vocab make_gpt2_vocab(uint32_t size) {
  Vocab v;
  v.model = "gpt2";
  std::vector<std::string> sym = gpt2_byte_symbols();
  std::set<std::string> have;
  for (const auto& s : sym) {
    v.tokens.push_back(s);
    v.types.push_back(kNormal);
    have.insert(s);
  }
  const uint32_t room = size - 1;  // keep one slot for <|endoftext|>
  const std::string space = sym[' '];  // "Ġ"
  auto merge_word = [&](const std::string& lead, const std::string& word) {
    std::string cur = lead.empty() ? std::string(1, word[0]) : lead;
    size_t start = lead.empty() ? 1 : 0;
    for (size_t i = start; i < word.size() && v.tokens.size() < room; ++i) {
      std::string next = cur + word[i];
      if (!have.count(next)) {
        v.merges.push_back(cur + " " + std::string(1, word[i]));
        v.tokens.push_back(next);
        v.types.push_back(kNormal);
        have.insert(next);
      }
      cur = next;
    }
  };
  for (const auto& w : common_words()) merge_word(space, w);
  for (const auto& w : common_words()) merge_word("", w);
  for (uint32_t i = 0; v.tokens.size() < room; ++i) {
    // Two-letter fragments fill any remaining room deterministically.
    std::string a(1, static_cast<char>('a' + i % 26)), b(1, static_cast<char>('a' + (i / 26) % 26));
    if (i >= 26 * 26) {
      v.tokens.push_back("<|extra_" + std::to_string(i) + "|>");
      v.types.push_back(kUserDefined);
      continue;
    }
    if (have.insert(a + b).second) {
      v.merges.push_back(a + " " + b);
      v.tokens.push_back(a + b);
      v.types.push_back(kNormal);
    }
  }
  v.tokens.push_back("<|endoftext|>");
  v.types.push_back(kControl);
  v.bos = v.eos = static_cast<uint32_t>(v.tokens.size() - 1);
  return v;
}

}  // namespace testmodel
