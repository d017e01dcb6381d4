// tokenizer.json -> tokenizer.ggml.* metadata, as llama.cpp's converter writes it.
#include <algorithm>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "convert/hf_internal.hpp"
#include "modelswarm/hf_checkpoint.hpp"

namespace modelswarm {

namespace {

using nlohmann::json;
using convert::read_json_object;
namespace fs = std::filesystem;

// llama.cpp's token types (tokenizer.ggml.token_type).
enum : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

const char* const kSpace = "\xe2\x96\x81";  // U+2581, SentencePiece's visible space

// Split patterns of the byte-level pre-tokenizers llama.cpp knows by name.
const char* const kLlama3Split =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kQwen2Split =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

std::string type_of(const json& j) {
  if (!j.is_object()) return "";
  auto t = j.find("type");
  return t != j.end() && t->is_string() ? t->get<std::string>() : "";
}

// `j` itself, or the members of a Sequence (`list_key` holds them).
std::vector<const json*> flatten(const json& j, const char* list_key) {
  std::vector<const json*> out;
  if (type_of(j) == "Sequence") {
    if (auto it = j.find(list_key); it != j.end() && it->is_array())
      for (const auto& e : *it) out.push_back(&e);
  } else if (j.is_object()) {
    out.push_back(&j);
  }
  return out;
}

std::string token_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object())
    if (auto c = v.find("content"); c != v.end() && c->is_string()) return c->get<std::string>();
  return "";
}

std::string shorten(std::string s) {
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

struct Converted {
  std::string model;  // "llama" / "gpt2"
  std::string pre;
  bool add_space_prefix = true;
  bool nfc = false;
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<float> scores;
  std::vector<std::string> merges;
  std::unordered_map<std::string, int32_t> ids;
};

// Which of the two supported tokenizer styles `j` is; sets model, pre, add_space_prefix.
Status classify(const json& j, const json& model, Converted& c, const std::string& src) {
  const json null;
  const json& norm = j.contains("normalizer") ? j["normalizer"] : null;
  const json& pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : null;
  bool metaspace = false, prepend = false, byte_level = false, byte_level_regex = false;
  bool spaces_replaced = false;  // a normalizer turned every " " into "▁"
  std::string split;
  for (const json* n : flatten(norm, "normalizers")) {
    std::string t = type_of(*n);
    if (t == "Prepend" && n->value("prepend", "") == kSpace) prepend = true;
    else if (t == "Replace" && n->value("content", "") == kSpace) {
      metaspace = true;
      auto pat = n->find("pattern");
      spaces_replaced = pat != n->end() && pat->is_object() && pat->value("String", "") == " ";
    }
    else if (t == "NFC") c.nfc = true;
    else if (!t.empty())
      return Error::unsupported(src + ": normalizer \"" + t + "\" is not supported");
  }
  for (const json* p : flatten(pre, "pretokenizers")) {
    std::string t = type_of(*p);
    if (t == "Metaspace") {
      metaspace = true;
      std::string scheme = p->value("prepend_scheme", std::string());
      if (scheme.empty()) scheme = p->value("add_prefix_space", true) ? "always" : "never";
      if (scheme != "never") prepend = true;
    } else if (t == "ByteLevel") {
      byte_level = true;
      byte_level_regex = p->value("use_regex", true);
    } else if (t == "Split") {
      auto pat = p->find("pattern");
      // Gemma 3 splits on " " after its normalizer replaced every " " by "▁": nothing is left
      // to split on, as SentencePiece, which never splits, would have it.
      if (spaces_replaced && pat != p->end() && pat->is_object() && pat->value("String", "") == " ") continue;
      if (pat == p->end() || !pat->is_object() || !pat->contains("Regex") || !(*pat)["Regex"].is_string() ||
          !split.empty())
        return Error::unsupported(src + ": a Split pre-tokenizer without one regex pattern is not supported");
      split = (*pat)["Regex"].get<std::string>();
    } else {
      return Error::unsupported(src + ": pre-tokenizer \"" + t + "\" is not supported");
    }
  }
  if (metaspace && !byte_level && split.empty()) {
    MS_ASSIGN_OR_RETURN(bool byte_fallback, convert::optional_bool(model, "byte_fallback", false, src));
    if (!byte_fallback)
      return Error::unsupported(src + ": a Metaspace BPE tokenizer without byte_fallback is not supported");
    c.model = "llama";
    c.add_space_prefix = prepend;
    return {};
  }
  if (byte_level && !metaspace) {
    c.model = "gpt2";
    c.add_space_prefix = false;
    if (split.empty() && byte_level_regex) c.pre = "gpt2";
    else if (split == kLlama3Split && !byte_level_regex) c.pre = "llama-bpe";
    else if (split == kQwen2Split && !byte_level_regex) c.pre = "qwen2";
    else
      return Error::unsupported(src + ": byte-level BPE with split pattern \"" + shorten(split) +
                                "\" is not supported (GPT-2, Llama 3 and Qwen2 patterns)");
    return {};
  }
  return Error::unsupported(src + ": tokenizer is neither byte-level BPE nor Metaspace BPE with byte fallback");
}

bool is_byte_token(const std::string& t) {
  auto hex = [](char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F'); };
  return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && hex(t[3]) && hex(t[4]) && t[5] == '>';
}

// `vocab_size`: config.json's, 0 when absent.
Status read_vocab(const json& j, const json& model, Converted& c, const std::string& src, int64_t vocab_size) {
  auto vit = model.find("vocab");
  if (vit == model.end() || !vit->is_object() || vit->empty())
    return Error::format(src + ": model.vocab is missing or empty");
  constexpr int64_t kMaxVocab = 1 << 22;
  std::map<int64_t, std::pair<std::string, int32_t>> by_id;  // id -> (text, type)
  for (auto it = vit->begin(); it != vit->end(); ++it) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() >= kMaxVocab)
      return Error::format(src + ": token \"" + shorten(it.key()) + "\" has an invalid id");
    if (!by_id.emplace(it->get<int64_t>(), std::make_pair(it.key(), kNormal)).second)
      return Error::format(src + ": two tokens share id " + std::to_string(it->get<int64_t>()));
  }
  if (auto at = j.find("added_tokens"); at != j.end() && at->is_array()) {
    for (const auto& a : *at) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
          !a["content"].is_string())
        return Error::format(src + ": malformed entry in added_tokens");
      int64_t id = a["id"].get<int64_t>();
      if (id < 0 || id >= kMaxVocab) return Error::format(src + ": added token with an invalid id");
      MS_ASSIGN_OR_RETURN(bool special, convert::optional_bool(a, "special", false, src));
      const std::string& text = a["content"].get_ref<const std::string&>();
      // llama.cpp's converter marks "<|...|>" added tokens control whatever their "special"
      // flag (Qwen's <|fim_prefix|>, <|repo_name|>, <|file_sep|>), and llama.cpp warns on
      // load when such a token is user-defined.
      const bool looks_special = text.size() > 4 && text.rfind("<|", 0) == 0 && text.compare(text.size() - 2, 2, "|>") == 0;
      const int32_t type = special || looks_special ? kControl : kUserDefined;
      auto& slot = by_id[id];
      if (!slot.first.empty() && slot.first != a["content"].get<std::string>())
        return Error::format(src + ": added token " + std::to_string(id) + " clashes with the vocabulary");
      slot = {a["content"].get<std::string>(), type};
    }
  }
  // The list covers every embedding row: checkpoints pad vocab_size past their tokens (Qwen2/3:
  // 151,669 tokens, 151,936 rows), and llama.cpp refuses a GGUF whose list is shorter than the
  // embedding. Ids no token has are "[PADn]", unused, as llama.cpp's converter writes them.
  const int64_t n = std::max(by_id.rbegin()->first + 1, std::min(vocab_size, kMaxVocab));
  c.tokens.resize(n);
  c.types.assign(n, kUnused);
  for (int64_t i = 0; i < n; ++i) c.tokens[i] = "[PAD" + std::to_string(i) + "]";
  for (auto& [id, tt] : by_id) {
    c.tokens[id] = tt.first;
    c.types[id] = tt.second;
  }
  for (int64_t i = 0; i < n; ++i) {
    if (!c.ids.emplace(c.tokens[i], static_cast<int32_t>(i)).second)
      return Error::format(src + ": token \"" + shorten(c.tokens[i]) + "\" appears twice");
    if (c.model == "llama" && c.types[i] == kNormal && is_byte_token(c.tokens[i])) c.types[i] = kByte;
  }
  return {};
}

Status read_merges(const json& model, Converted& c, const std::string& src) {
  auto mit = model.find("merges");
  if (mit == model.end() || !mit->is_array()) return Error::format(src + ": model.merges is missing");
  c.merges.reserve(mit->size());
  for (const auto& m : *mit) {
    if (m.is_string()) {
      c.merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      c.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    } else {
      return Error::format(src + ": malformed entry in model.merges");
    }
    const std::string& s = c.merges.back();
    if (s.find(' ') == std::string::npos || s.front() == ' ' || s.back() == ' ')
      return Error::format(src + ": merge \"" + shorten(s) + "\" is not two tokens");
  }
  return {};
}

// SentencePiece merges the pair whose result scores highest: the token made by merge k
// scores -k, so merges happen in the order tokenizer.json ranks them. Tokens no merge makes
// (characters, bytes, specials) keep 0; they are never the result of a merge.
void scores_from_merges(Converted& c) {
  c.scores.assign(c.tokens.size(), 0.0f);
  std::vector<bool> set(c.tokens.size(), false);
  for (size_t k = 0; k < c.merges.size(); ++k) {
    const std::string& m = c.merges[k];
    const size_t sp = m.find(' ');
    std::string merged = m.substr(0, sp) + m.substr(sp + 1);
    auto it = c.ids.find(merged);
    if (it == c.ids.end() || set[it->second]) continue;
    set[it->second] = true;
    c.scores[it->second] = -static_cast<float>(k);
  }
}

// add_bos / add_eos as the post-processor's template for a single sequence says.
void template_flags(const json& j, std::optional<bool>& add_bos, std::optional<bool>& add_eos) {
  const json null;
  const json& pp = j.contains("post_processor") ? j["post_processor"] : null;
  for (const json* p : flatten(pp, "processors")) {
    if (type_of(*p) != "TemplateProcessing") continue;
    auto single = p->find("single");
    if (single == p->end() || !single->is_array() || single->empty()) continue;
    add_bos = single->front().contains("SpecialToken");
    add_eos = single->back().contains("SpecialToken");
  }
}

}  // namespace

Result<Metadata> hf_tokenizer_metadata(const fs::path& dir) {
  const fs::path path = dir / "tokenizer.json";
  const std::string src = path.string();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return Error::unsupported(dir.string() + ": no tokenizer.json (only --tokens prompts can be run)");
  MS_ASSIGN_OR_RETURN(json j, read_json_object(path, 256u << 20));
  json tc = json::object(), cfg = json::object();
  if (fs::is_regular_file(dir / "tokenizer_config.json", ec)) {
    MS_ASSIGN_OR_RETURN(tc, read_json_object(dir / "tokenizer_config.json", 64u << 20));
  }
  if (fs::is_regular_file(dir / "config.json", ec)) {
    MS_ASSIGN_OR_RETURN(cfg, read_json_object(dir / "config.json", 16u << 20));
  }
  return convert::tokenizer_metadata_from_json(j, tc, cfg, src);
}

Result<Metadata> convert::tokenizer_metadata_from_json(const json& j, const json& tc, const json& cfg,
                                                       const std::string& src) {
  auto mit = j.find("model");
  if (mit == j.end() || !mit->is_object()) return Error::format(src + ": \"model\" is missing");
  const json& model = *mit;
  const std::string mtype = type_of(model);
  if (mtype != "BPE")
    return Error::unsupported(src + ": tokenizer model \"" + mtype + "\" is not supported (BPE)");

  Converted c;
  MS_TRY(classify(j, model, c, src));
  int64_t vocab_size = 0;
  if (auto it = cfg.find("vocab_size"); it != cfg.end() && it->is_number_integer()) vocab_size = std::max<int64_t>(0, it->get<int64_t>());
  MS_TRY(read_vocab(j, model, c, src, vocab_size));
  MS_TRY(read_merges(model, c, src));

  // Ids are -1 when unknown.
  auto id_of = [&](const json& v) -> int32_t {
    std::string t = token_text(v);
    auto it = t.empty() ? c.ids.end() : c.ids.find(t);
    return it == c.ids.end() ? -1 : it->second;
  };
  auto config_id = [&](const char* key) -> int32_t {
    auto it = cfg.find(key);
    if (it == cfg.end()) return -1;
    const json& v = it->is_array() && !it->empty() ? (*it)[0] : *it;
    if (v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() < int64_t(c.tokens.size()))
      return static_cast<int32_t>(v.get<int64_t>());
    return -1;
  };
  const json none;
  int32_t bos = id_of(tc.contains("bos_token") ? tc["bos_token"] : none);
  int32_t eos = id_of(tc.contains("eos_token") ? tc["eos_token"] : none);
  const int32_t pad = id_of(tc.contains("pad_token") ? tc["pad_token"] : none);
  const int32_t unk = id_of(model.contains("unk_token") ? model["unk_token"] : none);
  if (bos < 0) bos = config_id("bos_token_id");
  if (eos < 0) eos = config_id("eos_token_id");
  if (c.model == "llama") {
    if (bos < 0) bos = id_of("<s>");
    if (eos < 0) eos = id_of("</s>");
    if (unk >= 0) c.types[unk] = kUnknown;
    scores_from_merges(c);
  }
  std::optional<bool> add_bos, add_eos;
  template_flags(j, add_bos, add_eos);
  if (auto it = tc.find("add_bos_token"); it != tc.end() && it->is_boolean()) add_bos = it->get<bool>();
  if (auto it = tc.find("add_eos_token"); it != tc.end() && it->is_boolean()) add_eos = it->get<bool>();
  if (!add_bos) add_bos = c.model == "llama";

  Metadata md;
  md.set("tokenizer.ggml.model", MetaValue::string(c.model));
  if (!c.pre.empty()) md.set("tokenizer.ggml.pre", MetaValue::string(c.pre));
  md.set("tokenizer.ggml.tokens", MetaValue::string_array(std::move(c.tokens)));
  if (c.model == "llama") md.set("tokenizer.ggml.scores", MetaValue::f32_array(c.scores));
  md.set("tokenizer.ggml.token_type", MetaValue::i32_array(c.types));
  if (c.model == "gpt2") md.set("tokenizer.ggml.merges", MetaValue::string_array(std::move(c.merges)));
  if (bos >= 0) md.set("tokenizer.ggml.bos_token_id", MetaValue::u32(bos));
  if (eos >= 0) md.set("tokenizer.ggml.eos_token_id", MetaValue::u32(eos));
  if (unk >= 0) md.set("tokenizer.ggml.unknown_token_id", MetaValue::u32(unk));
  if (pad >= 0) md.set("tokenizer.ggml.padding_token_id", MetaValue::u32(pad));
  md.set("tokenizer.ggml.add_bos_token", MetaValue::boolean(*add_bos));
  md.set("tokenizer.ggml.add_eos_token", MetaValue::boolean(add_eos.value_or(false)));
  if (c.model == "llama") md.set("tokenizer.ggml.add_space_prefix", MetaValue::boolean(c.add_space_prefix));
  // llama.cpp has no key for a normalizer (it ignores this one); modelswarm applies NFC as HF does.
  if (c.nfc) md.set("tokenizer.ggml.normalizer.nfc", MetaValue::boolean(true));
  if (auto it = tc.find("chat_template"); it != tc.end() && it->is_string())
    md.set("tokenizer.chat_template", MetaValue::string(it->get<std::string>()));
  return md;
}

}  // namespace modelswarm
