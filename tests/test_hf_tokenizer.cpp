// tokenizer.json -> tokenizer.ggml.* metadata: Llama 3 / Qwen2 / GPT-2 byte-level BPE and
// Llama 2 / Mistral Metaspace BPE with byte fallback, as llama.cpp's converter writes them;
// anything else is refused with a message naming what was found.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "modelswarm/hf_checkpoint.hpp"
#include "modelswarm/infer.hpp"
#include "process.hpp"
#include "tempdir.hpp"

using namespace modelswarm;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* const kLlama3Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// A byte-level vocabulary: the 256 GPT-2 byte symbols would be the real thing; a handful is
// enough for the conversion.
json byte_level_tokenizer(const std::string& split) {
  json vocab = {{"h", 0}, {"e", 1}, {"l", 2}, {"o", 3}, {"\xc4\xa0", 4}, {"he", 5}, {"ll", 6},
                {"hell", 7}, {"hello", 8}};
  json pre = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  if (!split.empty())
    pre = {{"type", "Sequence"},
           {"pretokenizers",
            {{{"type", "Split"}, {"pattern", {{"Regex", split}}}, {"behavior", "Isolated"}},
             {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
  return {{"version", "1.0"},
          {"added_tokens",
           {{{"id", 9}, {"content", "<|begin_of_text|>"}, {"special", true}},
            {{"id", 10}, {"content", "<|eot_id|>"}, {"special", true}},
            {{"id", 12}, {"content", "<tool>"}, {"special", false}}}},
          {"normalizer", nullptr},
          {"pre_tokenizer", pre},
          {"post_processor",
           {{"type", "Sequence"},
            {"processors",
             {{{"type", "ByteLevel"}},
              {{"type", "TemplateProcessing"},
               {"single", {{{"SpecialToken", {{"id", "<|begin_of_text|>"}}}}, {{"Sequence", {{"id", "A"}}}}}}}}}}},
          {"model",
           {{"type", "BPE"}, {"byte_fallback", false}, {"vocab", vocab},
            {"merges", json::array({json::array({"h", "e"}), json::array({"l", "l"}), json::array({"he", "ll"}),
                                   json::array({"hell", "o"})})}}}};
}

json metaspace_tokenizer() {
  json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab[name] = 3 + b;
  }
  const std::string sp = "\xe2\x96\x81";
  int id = 259;
  for (std::string t : {sp, std::string("a"), std::string("b"), sp + "a", std::string("ab"), sp + "ab"})
    vocab[t] = id++;
  return {{"added_tokens",
           {{{"id", 0}, {"content", "<unk>"}, {"special", true}},
            {{"id", 1}, {"content", "<s>"}, {"special", true}},
            {{"id", 2}, {"content", "</s>"}, {"special", true}}}},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", sp}, {"prepend_scheme", "first"}, {"split", false}}},
          {"model",
           {{"type", "BPE"}, {"byte_fallback", true}, {"unk_token", "<unk>"}, {"vocab", vocab},
            // "a b" ranks before "▁ a": "ab" must score above "▁a" although its id is later.
            {"merges", {"a b", sp + " a", sp + "a b", sp + " ab"}}}}};
}

Metadata convert(const fs::path& dir, const json& tok, const json& tok_config = json()) {
  fs::create_directories(dir);
  mstest::write_file((dir / "tokenizer.json").string(), tok.dump());
  if (!tok_config.is_null()) mstest::write_file((dir / "tokenizer_config.json").string(), tok_config.dump());
  auto md = hf_tokenizer_metadata(dir);
  REQUIRE_MESSAGE(md.ok(), (md.ok() ? "" : md.error().message));
  return std::move(md).value();
}

Error refusal(const fs::path& dir, const json& tok) {
  fs::create_directories(dir);
  mstest::write_file((dir / "tokenizer.json").string(), tok.dump());
  auto md = hf_tokenizer_metadata(dir);
  REQUIRE_FALSE(md.ok());
  return md.error();
}

}  // namespace

TEST_CASE("Llama 3 style byte-level BPE: gpt2 model, llama-bpe pre-tokenizer, BOS from the template") {
  mstest::TempDir d;
  Metadata md = convert(d.path(), byte_level_tokenizer(kLlama3Split));
  CHECK(md.string_or("tokenizer.ggml.model", "") == "gpt2");
  CHECK(md.string_or("tokenizer.ggml.pre", "") == "llama-bpe");
  auto tokens = md.get_string_array("tokenizer.ggml.tokens");
  REQUIRE(tokens.ok());
  REQUIRE(tokens->size() == 13);
  CHECK((*tokens)[8] == "hello");
  CHECK((*tokens)[11] == "[PAD11]");  // a hole in the ids
  auto types = md.get_i32_array("tokenizer.ggml.token_type");
  REQUIRE(types.ok());
  CHECK((*types)[11] == 5);  // unused, as llama.cpp's converter marks holes
  CHECK((*types)[8] == 1);
  CHECK((*types)[9] == 3);   // special added token: control
  CHECK((*types)[12] == 4);  // non-special added token: user-defined
  auto merges = md.get_string_array("tokenizer.ggml.merges");
  REQUIRE(merges.ok());
  CHECK(std::vector<std::string>(merges->begin(), merges->end()) ==
        std::vector<std::string>{"h e", "l l", "he ll", "hell o"});
  CHECK(md.get_bool("tokenizer.ggml.add_bos_token").value() == true);
  CHECK(md.get_bool("tokenizer.ggml.add_eos_token").value() == false);
  CHECK_FALSE(md.contains("tokenizer.ggml.scores"));
}

TEST_CASE("Qwen-style: the token list is padded to config.json's vocab_size; <|...|> added tokens are control") {
  mstest::TempDir d;
  json tok = byte_level_tokenizer(kLlama3Split);
  tok["added_tokens"].push_back({{"id", 13}, {"content", "<|fim_prefix|>"}, {"special", false}});
  tok["added_tokens"].push_back({{"id", 14}, {"content", "<|file_sep|>"}, {"special", false}});
  fs::create_directories(d.path());
  mstest::write_file((d.path() / "config.json").string(), json{{"vocab_size", 24}}.dump());
  Metadata md = convert(d.path(), tok);
  auto tokens = md.get_string_array("tokenizer.ggml.tokens");
  auto types = md.get_i32_array("tokenizer.ggml.token_type");
  REQUIRE(tokens.ok());
  REQUIRE(types.ok());
  REQUIRE(tokens->size() == 24);  // the embedding's rows, as llama.cpp requires
  REQUIRE(types->size() == 24);
  CHECK((*tokens)[23] == "[PAD23]");
  CHECK((*types)[23] == 5);
  CHECK((*types)[13] == 3);  // "special": false, but "<|...|>": control, as llama.cpp converts it
  CHECK((*types)[14] == 3);
  CHECK((*types)[12] == 4);  // "<tool>" stays user-defined
}

TEST_CASE("plain ByteLevel is gpt2; tokenizer_config.json names BOS/EOS and the chat template") {
  mstest::TempDir d;
  json tok = byte_level_tokenizer("");
  tok.erase("post_processor");
  Metadata md = convert(d.path(), tok,
                        {{"bos_token", "<|begin_of_text|>"},
                         {"eos_token", {{"content", "<|eot_id|>"}, {"lstrip", false}}},
                         {"chat_template", "{{ messages }}"}});
  CHECK(md.string_or("tokenizer.ggml.pre", "") == "gpt2");
  CHECK(md.u32_or("tokenizer.ggml.bos_token_id", 0) == 9);
  CHECK(md.u32_or("tokenizer.ggml.eos_token_id", 0) == 10);
  CHECK(md.get_bool("tokenizer.ggml.add_bos_token").value() == false);
  CHECK(md.string_or("tokenizer.chat_template", "") == "{{ messages }}");
}

TEST_CASE("Mistral style Metaspace BPE: llama model, scores in merge order, byte and unknown types") {
  mstest::TempDir d;
  Metadata md = convert(d.path(), metaspace_tokenizer());
  CHECK(md.string_or("tokenizer.ggml.model", "") == "llama");
  CHECK_FALSE(md.contains("tokenizer.ggml.pre"));
  CHECK(md.get_bool("tokenizer.ggml.add_space_prefix").value() == true);
  CHECK(md.get_bool("tokenizer.ggml.add_bos_token").value() == true);
  CHECK(md.u32_or("tokenizer.ggml.bos_token_id", 9) == 1);
  CHECK(md.u32_or("tokenizer.ggml.eos_token_id", 9) == 2);
  CHECK(md.u32_or("tokenizer.ggml.unknown_token_id", 9) == 0);
  auto types = md.get_i32_array("tokenizer.ggml.token_type");
  auto scores = md.get_f32_array("tokenizer.ggml.scores");
  REQUIRE(types.ok());
  REQUIRE(scores.ok());
  CHECK((*types)[0] == 2);
  CHECK((*types)[1] == 3);
  CHECK((*types)[3] == 6);    // <0x00>
  CHECK((*types)[258] == 6);  // <0xFF>
  CHECK((*types)[259] == 1);
  // ids: ▁=259 a=260 b=261 ▁a=262 ab=263 ▁ab=264; merges ab, ▁a, ▁ab (second split ignored)
  CHECK((*scores)[263] > (*scores)[262]);
  CHECK((*scores)[262] > (*scores)[264]);
}

// Gemma 3's tokenizer.json: spaces become "▁" in a normalizer (no prefix space), then a Split on
// " " that finds none. It is SentencePiece-style BPE with byte fallback, without the prefix.
TEST_CASE("Gemma 3 style: Replace normalizer and a Split on \" \" convert as Metaspace BPE without a prefix space") {
  mstest::TempDir d;
  json t = metaspace_tokenizer();
  const std::string sp = "\xe2\x96\x81";
  t["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", sp}};
  t["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithPrevious"},
                        {"invert", false}};
  Metadata md = convert(d.path(), t);
  CHECK(md.string_or("tokenizer.ggml.model", "") == "llama");
  CHECK(md.get_bool("tokenizer.ggml.add_space_prefix").value() == false);
  // The same Split without the normalizer would split real spaces: still refused.
  t["normalizer"] = nullptr;
  Error e = refusal(d / "plain", t);
  CHECK(e.message.find("Split") != std::string::npos);
}

TEST_CASE("refused tokenizers name what they are") {
  mstest::TempDir d;
  SUBCASE("no tokenizer.json") {
    auto md = hf_tokenizer_metadata(d.path());
    REQUIRE_FALSE(md.ok());
    CHECK(md.error().code == ErrorCode::unsupported);
    CHECK(md.error().message.find("tokenizer.json") != std::string::npos);
  }
  SUBCASE("WordPiece") {
    Error e = refusal(d.path(), {{"model", {{"type", "WordPiece"}, {"vocab", {{"a", 0}}}}}});
    CHECK(e.code == ErrorCode::unsupported);
    CHECK(e.message.find("WordPiece") != std::string::npos);
  }
  SUBCASE("an unknown split pattern") {
    Error e = refusal(d.path(), byte_level_tokenizer("\\p{N}+"));
    CHECK(e.code == ErrorCode::unsupported);
    CHECK(e.message.find("split pattern") != std::string::npos);
  }
  SUBCASE("Metaspace without byte fallback") {
    json t = metaspace_tokenizer();
    t["model"]["byte_fallback"] = false;
    Error e = refusal(d.path(), t);
    CHECK(e.message.find("byte_fallback") != std::string::npos);
  }
  SUBCASE("malformed merges") {
    json t = byte_level_tokenizer("");
    t["model"]["merges"] = {"nospace"};
    Error e = refusal(d.path(), t);
    CHECK(e.code == ErrorCode::format);
  }
  SUBCASE("not JSON") {
    mstest::write_file((d / "tokenizer.json").string(), "{\"model\": ");
    auto md = hf_tokenizer_metadata(d.path());
    REQUIRE_FALSE(md.ok());
    CHECK(md.error().code == ErrorCode::format);
  }
}

TEST_CASE("an NFC normalizer is kept in the GGUF metadata and applied: decomposed accents tokenize as precomposed") {
  // "é" as one token; "e" + U+0301 (combining acute) is another spelling of it.
  const std::string precomposed = "\xc3\xa9", decomposed = "e\xcc\x81";
  auto tokenize = [&](const fs::path& dir, bool nfc, const std::string& text) {
    json tok = metaspace_tokenizer();
    tok["model"]["vocab"]["\xc3\xa9"] = 265;
    if (nfc) tok["normalizer"] = {{"type", "NFC"}};
    Metadata md = convert(dir, tok);
    CHECK(md.contains("tokenizer.ggml.normalizer.nfc") == nfc);
    auto vocab = vocab_from_metadata(md);
    REQUIRE(vocab.ok());
    CHECK(vocab->normalize_nfc == nfc);
    auto t = Tokenizer::create(std::move(*vocab));
    REQUIRE(t.ok());
    return t->encode(text, false);
  };
  mstest::TempDir d;
  auto with_pre = tokenize(d / "nfc", true, precomposed);
  auto with_dec = tokenize(d / "nfc", true, decomposed);
  CHECK(with_pre == std::vector<int32_t>{259, 265});  // "▁", "é"
  CHECK(with_dec == with_pre);
  auto plain_pre = tokenize(d / "plain", false, precomposed);
  auto plain_dec = tokenize(d / "plain", false, decomposed);
  CHECK(plain_pre == with_pre);
  // Without the normalizer the combining mark stays: "e" and U+0301 fall back to bytes.
  CHECK(plain_dec != plain_pre);
  CHECK(plain_dec == std::vector<int32_t>{259, 3 + 'e', 3 + 0xCC, 3 + 0x81});
}
