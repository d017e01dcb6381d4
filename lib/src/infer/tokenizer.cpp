#include <algorithm>
#include <cstdio>

#include "infer/normalize.hpp"
#include "infer/tokenizer_impl.hpp"
#include "infer/unicode.hpp"
#include "util/utf8.hpp"

namespace modelswarm {

namespace {

const std::string kSpaceMarker = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

std::string escape_spaces(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    if (c == ' ') out += kSpaceMarker;
    else out += c;
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "<0xNN>" -> NN, else -1.
int byte_token_value(std::string_view s) {
  if (s.size() != 6 || s.substr(0, 3) != "<0x" || s[5] != '>') return -1;
  int hi = hex_digit(s[3]), lo = hex_digit(s[4]);
  return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Result<Tokenizer> Tokenizer::create(Vocab vocab, std::string_view source) {
  auto impl = std::make_unique<Impl>();
  std::string src(source);
  if (vocab.model == "llama") {
    impl->kind = Impl::Kind::kSpm;
  } else if (vocab.model == "gpt2") {
    impl->kind = Impl::Kind::kBpe;
    auto pre = infer::pretokenizer_from_name(vocab.pre);
    if (!pre) return Error::unsupported(src + ": unsupported BPE pre-tokenizer '" + vocab.pre + "'");
    impl->pre = *pre;
    impl->ignore_merges = *pre == infer::PreTokenizer::kLlama3;
  } else {
    return Error::unsupported(src + ": unsupported tokenizer model '" + vocab.model + "'");
  }
  const auto n = static_cast<int64_t>(vocab.tokens.size());
  if (n == 0) return Error::format(src + ": tokenizer has no tokens");
  if (n > INT32_MAX) return Error::format(src + ": tokenizer has too many tokens");
  if (!vocab.scores.empty() && static_cast<int64_t>(vocab.scores.size()) != n)
    return Error::format(src + ": tokenizer scores count differs from tokens count");
  if (!vocab.types.empty() && static_cast<int64_t>(vocab.types.size()) != n)
    return Error::format(src + ": tokenizer token_type count differs from tokens count");
  for (int32_t t : vocab.types)
    if (t < 0 || t > 6) return Error::format(src + ": tokenizer token_type " + std::to_string(t) + " out of range");
  for (int32_t* id : {&vocab.bos, &vocab.eos, &vocab.unk, &vocab.eot})
    if (*id >= n) return Error::format(src + ": special token id " + std::to_string(*id) + " out of range");

  impl->ids.reserve(vocab.tokens.size());
  for (int32_t i = 0; i < static_cast<int32_t>(n); ++i) impl->ids.emplace(vocab.tokens[i], i);
  impl->byte_token.fill(-1);
  for (int32_t i = 0; i < static_cast<int32_t>(n); ++i) {
    int b = byte_token_value(vocab.tokens[i]);
    bool is_byte_type = !vocab.types.empty() && vocab.types[i] == static_cast<int32_t>(TokenType::byte);
    if (b >= 0 && (is_byte_type || vocab.types.empty()) && impl->byte_token[b] < 0) impl->byte_token[b] = i;
  }
  impl->merge_rank.reserve(vocab.merges.size());
  for (size_t r = 0; r < vocab.merges.size(); ++r) {
    const std::string& m = vocab.merges[r];
    size_t sp = m.find(' ', 1);
    if (sp == std::string::npos || sp + 1 >= m.size())
      return Error::format(src + ": malformed BPE merge #" + std::to_string(r));
    impl->merge_rank.emplace(m, static_cast<int32_t>(r));
  }
  impl->add_bos = vocab.add_bos.value_or(impl->kind == Impl::Kind::kSpm);
  if (vocab.eot < 0) {
    for (const char* name : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>"}) {
      auto it = impl->ids.find(name);
      if (it != impl->ids.end() && it->second != vocab.eos) {
        vocab.eot = it->second;
        break;
      }
    }
  }
  impl->vocab = std::move(vocab);
  for (int32_t i = 0; i < static_cast<int32_t>(n); ++i) {
    TokenType t = impl->type(i);
    if ((t == TokenType::control || t == TokenType::user_defined || t == TokenType::unknown) &&
        !impl->vocab.tokens[i].empty())
      impl->specials.push_back(i);
  }
  std::stable_sort(impl->specials.begin(), impl->specials.end(), [&](int32_t a, int32_t b) {
    return impl->vocab.tokens[a].size() > impl->vocab.tokens[b].size();
  });
  return Tokenizer(std::move(impl));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  const Impl& m = *impl_;
  // Split the text into raw fragments and special tokens: at each position the longest special
  // token spelled there wins.
  struct Fragment {
    std::string_view text;
    int32_t token;  // -1 for raw text
  };
  std::vector<Fragment> frags;
  size_t raw_start = 0;
  for (size_t i = 0; i < text.size();) {
    int32_t hit = -1;
    for (int32_t id : m.specials) {
      TokenType t = m.type(id);
      if (!parse_special && t != TokenType::user_defined) continue;
      const std::string& s = m.vocab.tokens[id];
      if (text.compare(i, s.size(), s) == 0) {
        hit = id;
        break;
      }
    }
    if (hit < 0) {
      ++i;
      continue;
    }
    if (i > raw_start) frags.push_back({text.substr(raw_start, i - raw_start), -1});
    frags.push_back({{}, hit});
    i += m.vocab.tokens[hit].size();
    raw_start = i;
  }
  if (raw_start < text.size()) frags.push_back({text.substr(raw_start), -1});

  std::vector<int32_t> out;
  if (add_special && m.add_bos && m.vocab.bos >= 0) out.push_back(m.vocab.bos);
  bool prev_special = true;  // SentencePiece prefixes a space to text that starts a fragment run
  for (const Fragment& f : frags) {
    if (f.token >= 0) {
      out.push_back(f.token);
      prev_special = true;
      continue;
    }
    // As HF does: special tokens are split out first, the normalizer applies to the rest.
    std::string normalized;
    std::string_view raw = f.text;
    if (m.vocab.normalize_nfc) {
      normalized = infer::nfc(f.text);
      raw = normalized;
    }
    if (m.kind == Impl::Kind::kSpm) {
      std::string t = (m.vocab.add_space_prefix && prev_special) ? " " : "";
      t += raw;
      m.encode_spm(escape_spaces(t), out);
    } else {
      m.encode_bpe(raw, out);
    }
    prev_special = false;
  }
  if (add_special && m.vocab.add_eos && m.vocab.eos >= 0) out.push_back(m.vocab.eos);
  return out;
}

std::string Tokenizer::piece(int32_t id, bool special) const {
  const Impl& m = *impl_;
  if (id < 0 || id >= n_vocab()) return {};
  const std::string& text = m.vocab.tokens[id];
  switch (m.type(id)) {
    case TokenType::control: return special ? text : std::string();
    case TokenType::user_defined: return text;
    case TokenType::unknown: return m.kind == Impl::Kind::kSpm ? "\xE2\x96\x85" : text;
    case TokenType::byte:
      if (m.kind == Impl::Kind::kSpm) {
        int b = byte_token_value(text);
        return b >= 0 ? std::string(1, static_cast<char>(b)) : std::string();
      }
      break;
    default: break;
  }
  if (m.kind == Impl::Kind::kSpm) {
    std::string out;
    for (size_t i = 0; i < text.size();) {
      if (text.compare(i, kSpaceMarker.size(), kSpaceMarker) == 0) {
        out += ' ';
        i += kSpaceMarker.size();
      } else {
        out += text[i++];
      }
    }
    return out;
  }
  const auto& u2b = unicode_to_byte();
  std::string out;
  for (size_t i = 0; i < text.size();) {
    size_t n = std::min(utf8::sequence_length(static_cast<unsigned char>(text[i])), text.size() - i);
    auto it = u2b.find(text.substr(i, n));
    if (it != u2b.end()) out += static_cast<char>(it->second);
    else out.append(text, i, n);
    i += n;
  }
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool special) const {
  std::string out;
  bool strip = impl_->kind == Impl::Kind::kSpm && impl_->vocab.add_space_prefix;
  for (int32_t id : ids) {
    std::string p = piece(id, special);
    if (strip && !p.empty()) {
      if (p[0] == ' ') p.erase(0, 1);
      strip = false;
    }
    out += p;
  }
  return out;
}

int32_t Tokenizer::n_vocab() const { return static_cast<int32_t>(impl_->vocab.tokens.size()); }
int32_t Tokenizer::bos() const { return impl_->vocab.bos; }
int32_t Tokenizer::eos() const { return impl_->vocab.eos; }
bool Tokenizer::adds_bos() const { return impl_->add_bos; }
bool Tokenizer::is_end_of_generation(int32_t id) const {
  return id >= 0 && (id == impl_->vocab.eos || id == impl_->vocab.eot);
}
const std::string& Tokenizer::token_text(int32_t id) const { return impl_->vocab.tokens[id]; }
std::optional<int32_t> Tokenizer::find(std::string_view text) const {
  int32_t id = impl_->lookup(text);
  if (id < 0) return std::nullopt;
  return id;
}

Result<std::vector<std::string>> pretokenize_text(std::string_view pre, std::string_view text) {
  auto kind = infer::pretokenizer_from_name(pre);
  if (!kind) return Error::unsupported("unsupported BPE pre-tokenizer '" + std::string(pre) + "'");
  std::vector<std::string> out;
  for (std::string_view w : infer::pretokenize(*kind, text)) out.emplace_back(w);
  return out;
}

std::string Utf8Streamer::push(std::string_view bytes) {
  pending_ += bytes;
  // Find where the last (possibly incomplete) sequence starts.
  size_t cut = pending_.size();
  for (size_t back = 1; back <= 4 && back <= pending_.size(); ++back) {
    auto c = static_cast<unsigned char>(pending_[pending_.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    size_t need = utf8::sequence_length(c);
    if (need > back) cut = pending_.size() - back;
    break;
  }
  std::string out = pending_.substr(0, cut);
  pending_.erase(0, cut);
  return out;
}

std::string Utf8Streamer::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace modelswarm
