// Tokenizers on small hand-made vocabularies whose encodings follow from the algorithms:
// SentencePiece (score-ordered merges, leftmost on ties, byte fallback) and byte-level BPE
// (pre-tokenizer words, rank-ordered merges).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "modelswarm/infer.hpp"
#include "modelswarm/metadata.hpp"
#include "modelswarm/tokenizer.hpp"

using namespace modelswarm;

namespace {

const std::string kMark = "\xE2\x96\x81";  // U+2581

// <unk> <s> </s>, 256 byte tokens, then `pieces` with their scores.
Vocab spm_vocab(const std::vector<std::pair<std::string, float>>& pieces) {
  Vocab v;
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.types = {2, 3, 3};
  v.scores = {0, 0, 0};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    v.tokens.push_back(buf);
    v.types.push_back(6);
    v.scores.push_back(0);
  }
  for (auto& [text, score] : pieces) {
    v.tokens.push_back(text);
    v.types.push_back(1);
    v.scores.push_back(score);
  }
  v.bos = 1;
  v.eos = 2;
  v.unk = 0;
  return v;
}

std::vector<std::string> texts(const Tokenizer& t, const std::vector<int32_t>& ids) {
  std::vector<std::string> out;
  for (int32_t id : ids) out.push_back(t.token_text(id));
  return out;
}

// The GPT-2 byte-to-codepoint map, written out from its definition: printable Latin-1 bytes map
// to themselves, the others to U+0100 upwards in byte order.
std::string mapped_byte(int b) {
  static std::vector<std::string> table = [] {
    std::vector<std::string> t(256);
    int next = 256;
    auto enc = [](int cp) {
      std::string s;
      if (cp < 0x80) s += char(cp);
      else { s += char(0xC0 | (cp >> 6)); s += char(0x80 | (cp & 0x3F)); }
      return s;
    };
    for (int i = 0; i < 256; ++i) {
      bool keep = (i >= 33 && i <= 126) || (i >= 161 && i <= 172) || (i >= 174 && i <= 255);
      t[i] = enc(keep ? i : next++);
    }
    return t;
  }();
  return table[b];
}

// Ids 0..255: the mapped bytes in byte order; then `extra` tokens; merges as given.
Vocab bpe_vocab(const std::string& pre, const std::vector<std::string>& extra,
                const std::vector<std::string>& merges) {
  Vocab v;
  v.model = "gpt2";
  v.pre = pre;
  for (int b = 0; b < 256; ++b) v.tokens.push_back(mapped_byte(b));
  for (auto& e : extra) v.tokens.push_back(e);
  v.types.assign(v.tokens.size(), 1);
  v.tokens.push_back("<|begin_of_text|>");
  v.types.push_back(3);
  v.tokens.push_back("<|eot_id|>");
  v.types.push_back(3);
  v.bos = static_cast<int32_t>(v.tokens.size()) - 2;
  v.eos = static_cast<int32_t>(v.tokens.size()) - 1;
  v.merges = merges;
  return v;
}

std::vector<std::string> words(const std::string& pre, const std::string& text) {
  auto r = pretokenize_text(pre, text);
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("SentencePiece: highest-scoring merge first, space prefix, BOS") {
  // "▁hello": ▁h (-1) first, then ll (-2), ▁he (-3), llo (-4); "▁hello" itself is no token.
  auto tok = Tokenizer::create(spm_vocab({{kMark, -10}, {"h", -10}, {"e", -10}, {"l", -10},
                                          {"o", -10}, {kMark + "h", -1}, {"ll", -2},
                                          {kMark + "he", -3}, {"llo", -4}}));
  REQUIRE(tok.ok());
  auto ids = tok->encode("hello");
  REQUIRE(ids.size() == 3);
  CHECK(ids[0] == 1);
  CHECK(texts(*tok, {ids[1], ids[2]}) == std::vector<std::string>{kMark + "he", "llo"});
  CHECK(tok->decode(ids) == "hello");
  CHECK(tok->encode("hello", false).size() == 2);
}

TEST_CASE("SentencePiece: equal scores merge the leftmost pair") {
  auto tok = Tokenizer::create(spm_vocab({{kMark, -1}, {"a", -1}, {"aa", -2}}));
  REQUIRE(tok.ok());
  auto ids = tok->encode("aaa", false);
  CHECK(texts(*tok, ids) == std::vector<std::string>{kMark, "aa", "a"});
}

TEST_CASE("SentencePiece: characters outside the vocabulary fall back to byte tokens") {
  auto tok = Tokenizer::create(spm_vocab({{kMark + "h", -1}, {"h", -5}, {kMark, -5}}));
  REQUIRE(tok.ok());
  auto ids = tok->encode("h\xC3\xA9", false);  // "hé"
  CHECK(texts(*tok, ids) == std::vector<std::string>{kMark + "h", "<0xC3>", "<0xA9>"});
  CHECK(tok->decode(ids) == "h\xC3\xA9");
  CHECK(tok->piece(ids[1]) == "\xC3");
}

TEST_CASE("SentencePiece: control tokens in the text, and a space prefix after them") {
  auto tok = Tokenizer::create(spm_vocab({{kMark + "h", -1}, {kMark, -5}, {"h", -5}}));
  REQUIRE(tok.ok());
  auto ids = tok->encode("h</s>h");
  CHECK(texts(*tok, ids) == std::vector<std::string>{"<s>", kMark + "h", "</s>", kMark + "h"});
  // Without parse_special the same text is spelled out in bytes.
  auto raw = tok->encode("h</s>h", true, false);
  CHECK(std::find(raw.begin(), raw.end(), 2) == raw.end());
  CHECK(tok->piece(2).empty());
  CHECK(tok->piece(2, true) == "</s>");
  CHECK(tok->is_end_of_generation(2));
}

TEST_CASE("SentencePiece: random text round-trips") {
  auto tok = Tokenizer::create(spm_vocab({{kMark, -1}, {"e", -2}, {kMark + "e", -3}}));
  REQUIRE(tok.ok());
  std::mt19937 rng(7);
  const std::vector<std::string> alphabet = {"a", "e", " ", "\n", "\xC3\xA9", "\xE4\xBD\xA0",
                                             "\xF0\x9F\x98\x80", "<", "s", ">"};
  for (int iter = 0; iter < 200; ++iter) {
    std::string s;
    int n = rng() % 12;
    for (int i = 0; i < n; ++i) s += alphabet[rng() % alphabet.size()];
    CHECK(tok->decode(tok->encode(s, true, false)) == s);
  }
}

TEST_CASE("pre-tokenizers split words as their expressions do") {
  using V = std::vector<std::string>;
  const std::string t = "Hello world 123456";
  CHECK(words("llama-bpe", t) == V{"Hello", " world", " ", "123", "456"});
  CHECK(words("qwen2", t) == V{"Hello", " world", " ", "1", "2", "3", "4", "5", "6"});
  CHECK(words("gpt2", t) == V{"Hello", " world", " 123456"});
  CHECK(words("smollm", t) == V{"Hello", " world", " ", "1", "2", "3", "4", "5", "6"});

  const std::string u = "I'm  fine!!\n\nok";
  CHECK(words("llama-bpe", u) == V{"I", "'m", " ", " fine", "!!\n\n", "ok"});
  CHECK(words("gpt2", u) == V{"I", "'m", " ", " fine", "!!", "\n", "\n", "ok"});
  // Llama 3 matches contractions in any case, GPT-2 only lower case.
  CHECK(words("llama-bpe", "WE'LL") == V{"WE", "'LL"});
  CHECK(words("gpt2", "WE'LL") == V{"WE", "'", "LL"});
  // Unicode classes: é and CJK are letters, Arabic-Indic digits are numbers.
  CHECK(words("llama-bpe", "h\xC3\xA9llo \xE4\xBD\xA0\xE5\xA5\xBD \xD9\xA1\xD9\xA2") ==
        V{"h\xC3\xA9llo", " \xE4\xBD\xA0\xE5\xA5\xBD", " ", "\xD9\xA1\xD9\xA2"});
  CHECK(words("llama-bpe", "a  \n b") == V{"a", "  \n", " b"});
  CHECK(words("llama-bpe", "x   ") == V{"x", "   "});
  CHECK(words("llama-bpe", "(hi)") == V{"(hi", ")"});
  CHECK(!pretokenize_text("no-such-pre", "x").ok());
}

TEST_CASE("BPE: lowest merge rank first, within pre-tokenizer words") {
  const std::string G = mapped_byte(' ');  // "Ġ"
  // " world": o r (0), Ġ w (1), l d (2), Ġw or (3) give [Ġwor, ld]; no merge makes Ġworld.
  auto tok = Tokenizer::create(bpe_vocab("llama-bpe", {"or", G + "w", "ld", G + "wor"},
                                         {"o r", G + " w", "l d", G + "w or"}));
  REQUIRE(tok.ok());
  auto ids = tok->encode(" world", false);
  CHECK(texts(*tok, ids) == std::vector<std::string>{G + "wor", "ld"});
  CHECK(tok->decode(ids) == " world");
  // BPE adds no BOS unless the file asks for it.
  CHECK(tok->encode(" world").size() == 2);
}

TEST_CASE("BPE: merges never cross pre-tokenizer words") {
  const std::string G = mapped_byte(' ');
  Vocab v = bpe_vocab("llama-bpe", {G + "1"}, {G + " 1"});
  auto llama3 = Tokenizer::create(v);
  v.pre = "gpt2";
  auto gpt2 = Tokenizer::create(v);
  REQUIRE(llama3.ok());
  REQUIRE(gpt2.ok());
  CHECK(texts(*llama3, llama3->encode("a 1", false)) == std::vector<std::string>{"a", G, "1"});
  CHECK(texts(*gpt2, gpt2->encode("a 1", false)) == std::vector<std::string>{"a", G + "1"});
}

TEST_CASE("BPE: Llama 3 takes a word that is a token whole; Qwen2 merges") {
  Vocab v = bpe_vocab("llama-bpe", {"Hi"}, {});
  auto llama3 = Tokenizer::create(v);
  v.pre = "qwen2";
  auto qwen2 = Tokenizer::create(v);
  REQUIRE(llama3.ok());
  REQUIRE(qwen2.ok());
  CHECK(texts(*llama3, llama3->encode("Hi", false)) == std::vector<std::string>{"Hi"});
  CHECK(texts(*qwen2, qwen2->encode("Hi", false)) == std::vector<std::string>{"H", "i"});
}

TEST_CASE("BPE: special tokens, BOS from metadata, byte-level round trip") {
  Vocab v = bpe_vocab("llama-bpe", {}, {});
  v.add_bos = true;
  auto tok = Tokenizer::create(v);
  REQUIRE(tok.ok());
  auto ids = tok->encode("hi<|eot_id|>");
  REQUIRE(ids.size() == 4);
  CHECK(ids.front() == tok->bos());
  CHECK(ids.back() == tok->eos());
  CHECK(tok->decode(ids) == "hi");
  CHECK(tok->decode(ids, true) == "<|begin_of_text|>hi<|eot_id|>");

  std::mt19937 rng(3);
  for (int iter = 0; iter < 200; ++iter) {
    std::string s;
    int n = rng() % 16;
    for (int i = 0; i < n; ++i) s += static_cast<char>(rng() % 256);  // any bytes, even invalid UTF-8
    CHECK(tok->decode(tok->encode(s, false, false)) == s);
  }
}

TEST_CASE("malformed vocabularies are refused with a message") {
  Vocab v = bpe_vocab("nope", {}, {});
  auto r = Tokenizer::create(v, "m.gguf");
  REQUIRE(!r.ok());
  CHECK(r.error().message.find("m.gguf") != std::string::npos);
  CHECK(r.error().message.find("nope") != std::string::npos);
  v = bpe_vocab("qwen2", {}, {"nospace"});
  CHECK(!Tokenizer::create(v).ok());
  v = spm_vocab({});
  v.scores.pop_back();
  CHECK(!Tokenizer::create(v).ok());
  v = spm_vocab({});
  v.bos = 100000;
  CHECK(!Tokenizer::create(v).ok());
  v.model = "bert";
  CHECK(!Tokenizer::create(v).ok());
}

TEST_CASE("Utf8Streamer holds back incomplete sequences") {
  Utf8Streamer s;
  CHECK(s.push("a\xE4") == "a");
  CHECK(s.push("\xBD") == "");
  CHECK(s.push("\xA0!") == "\xE4\xBD\xA0!");
  CHECK(s.push("\xF0\x9F") == "");
  CHECK(s.flush() == "\xF0\x9F");
}

TEST_CASE("a special token id that cannot index the vocabulary is refused, however large") {
  for (uint64_t id : {3ull, 4096ull, 0x80000000ull, 0xFFFFFFFFull, 0xFFFFFFFFFFFFull}) {
    CAPTURE(id);
    Metadata md;
    md.set("tokenizer.ggml.model", MetaValue::string("llama"));
    md.set("tokenizer.ggml.tokens", MetaValue::string_array({"<unk>", "<s>", "</s>"}));
    md.set("tokenizer.ggml.eos_token_id", MetaValue::u64(id));
    auto v = vocab_from_metadata(md);
    Result<Tokenizer> t = v.ok() ? Tokenizer::create(*v, "test") : Result<Tokenizer>(v.error());
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().code == ErrorCode::format);
    CHECK(t.error().message.find("out of range") != std::string::npos);
  }
}
