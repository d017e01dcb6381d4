#include "infer/pretokenize.hpp"

#include "infer/unicode.hpp"

namespace modelswarm::infer {

std::optional<PreTokenizer> pretokenizer_from_name(std::string_view name) {
  if (name.empty() || name == "default" || name == "gpt2" || name == "gpt-2") return PreTokenizer::kGpt2;
  if (name == "llama-bpe" || name == "llama3" || name == "llama-v3") return PreTokenizer::kLlama3;
  if (name == "qwen2") return PreTokenizer::kQwen2;
  if (name == "smollm") return PreTokenizer::kSmolLM;
  return std::nullopt;
}

namespace {

// Codepoints of one text with their classes, so matchers index instead of re-decoding.
struct Text {
  std::string_view bytes;
  std::vector<Cp> cps;
  std::vector<CpClass> cls;

  explicit Text(std::string_view t) : bytes(t), cps(utf8_decode(t)) {
    cls.reserve(cps.size());
    for (const Cp& c : cps) cls.push_back(cp_class(c.cp));
  }
  size_t size() const { return cps.size(); }
  uint32_t at(size_t i) const { return i < cps.size() ? cps[i].cp : 0xFFFFFFFFu; }
  CpClass klass(size_t i) const { return i < cls.size() ? cls[i] : CpClass::kOther; }
  bool letter(size_t i) const { return i < size() && cls[i] == CpClass::kLetter; }
  bool number(size_t i) const { return i < size() && cls[i] == CpClass::kNumber; }
  bool space(size_t i) const { return i < size() && cls[i] == CpClass::kSpace; }
  bool other(size_t i) const { return i < size() && cls[i] == CpClass::kOther; }
  bool newline(size_t i) const { return at(i) == '\r' || at(i) == '\n'; }
  std::string_view slice(size_t b, size_t e) const {
    size_t from = cps[b].offset;
    size_t to = e < cps.size() ? cps[e].offset : bytes.size();
    return bytes.substr(from, to - from);
  }
};

uint32_t lower(uint32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// Length in codepoints of a contraction ('s 't 're 've 'm 'll 'd) at i, or 0.
size_t contraction(const Text& t, size_t i, bool any_case) {
  if (t.at(i) != '\'') return 0;
  auto c = [&](size_t k) { return any_case ? lower(t.at(k)) : t.at(k); };
  uint32_t a = c(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  uint32_t b = c(i + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

size_t space_run_end(const Text& t, size_t i) {
  while (t.space(i)) ++i;
  return i;
}

// \s+(?!\S) then \s+ : a run of spaces leaves its last one to the word that follows it.
size_t match_spaces(const Text& t, size_t i) {
  size_t e = space_run_end(t, i);
  if (e == t.size() || e - i == 1) return e;
  return e - 1;
}

// Returns the end (codepoint index) of the word starting at i for the Llama 3 / Qwen2 expression.
size_t next_llama3(const Text& t, size_t i, size_t max_digits) {
  if (size_t n = contraction(t, i, true)) return i + n;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  size_t j = i;
  if (!t.letter(j) && !t.number(j) && !t.newline(j) && t.letter(j + 1)) ++j;
  if (t.letter(j)) {
    while (t.letter(j)) ++j;
    return j;
  }
  // \p{N}{1,max}
  if (t.number(i)) {
    j = i;
    while (t.number(j) && j - i < max_digits) ++j;
    return j;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  j = i;
  if (t.at(j) == ' ' && t.other(j + 1)) ++j;
  if (t.other(j)) {
    while (t.other(j)) ++j;
    while (t.newline(j)) ++j;
    return j;
  }
  // \s*[\r\n]+ : ends right after the last newline of the space run
  size_t e = space_run_end(t, i);
  size_t last_nl = SIZE_MAX;
  for (size_t k = i; k < e; ++k)
    if (t.newline(k)) last_nl = k;
  if (last_nl != SIZE_MAX) return last_nl + 1;
  if (e > i) return match_spaces(t, i);
  return i + 1;  // unreachable: every codepoint is a letter, number, space or other
}

size_t next_gpt2(const Text& t, size_t i) {
  if (size_t n = contraction(t, i, false)) return i + n;
  size_t j = i + (t.at(i) == ' ' ? 1 : 0);
  if (t.letter(j)) {
    while (t.letter(j)) ++j;
    return j;
  }
  if (t.number(j)) {
    while (t.number(j)) ++j;
    return j;
  }
  if (t.other(j)) {
    while (t.other(j)) ++j;
    return j;
  }
  if (t.space(i)) return match_spaces(t, i);
  return i + 1;
}

void split_into(const Text& t, size_t begin, size_t end, PreTokenizer kind,
                std::vector<std::string_view>& out) {
  size_t i = begin;
  while (i < end) {
    size_t e;
    switch (kind) {
      case PreTokenizer::kLlama3: e = next_llama3(t, i, 3); break;
      case PreTokenizer::kQwen2: e = next_llama3(t, i, 1); break;
      default: e = next_gpt2(t, i); break;
    }
    if (e > end) e = end;
    if (e <= i) e = i + 1;
    out.push_back(t.slice(i, e));
    i = e;
  }
}

}  // namespace

std::vector<std::string_view> pretokenize(PreTokenizer kind, std::string_view text) {
  std::vector<std::string_view> out;
  if (text.empty()) return out;
  Text t(text);
  if (kind != PreTokenizer::kSmolLM) {
    split_into(t, 0, t.size(), kind, out);
    return out;
  }
  // Digits first split the text into separate pieces; the GPT-2 expression then runs on each
  // piece alone, so a space before a digit is never joined to it.
  size_t start = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (!t.number(i)) continue;
    if (i > start) {
      Text piece(t.slice(start, i));
      split_into(piece, 0, piece.size(), PreTokenizer::kGpt2, out);
    }
    out.push_back(t.slice(i, i + 1));
    start = i + 1;
  }
  if (start < t.size()) {
    Text piece(t.slice(start, t.size()));
    split_into(piece, 0, piece.size(), PreTokenizer::kGpt2, out);
  }
  return out;
}

}  // namespace modelswarm::infer
