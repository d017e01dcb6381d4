// tokenizer.json -> tokenizer.ggml.* metadata -> a tokenizer, on arbitrary bytes. The input is
// tokenizer.json, optionally followed by a NUL byte and tokenizer_config.json, and by another
// NUL byte and config.json (the two files the converter also reads), so that seeds stay plain
// JSON files.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "convert/hf_internal.hpp"
#include "modelswarm/infer.hpp"
#include "modelswarm/tokenizer.hpp"

using namespace modelswarm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view parts[3];
  for (auto& part : parts) {
    const size_t nul = in.find('\0');
    part = in.substr(0, nul);
    if (nul == std::string_view::npos) break;
    in.remove_prefix(nul + 1);
  }
  auto object = [](std::string_view text, const char* what) -> Result<nlohmann::json> {
    if (text.empty()) return nlohmann::json::object();  // the file is absent
    return convert::parse_json_object(text, what);
  };
  auto tok = object(parts[0], "tokenizer.json");
  auto tc = object(parts[1], "tokenizer_config.json");
  auto cfg = object(parts[2], "config.json");
  if (!tok.ok() || !tc.ok() || !cfg.ok()) return 0;
  auto md = convert::tokenizer_metadata_from_json(*tok, *tc, *cfg, "tokenizer.json");
  if (!md.ok()) return 0;
  // The converter writes every key with the type the engine reads it as.
  auto vocab = vocab_from_metadata(*md);
  if (!vocab.ok()) __builtin_trap();
  auto t = Tokenizer::create(std::move(vocab).value(), "tokenizer.json");
  if (!t.ok()) return 0;
  for (std::string_view text : {std::string_view("Hello world, it's 2024!\n\tx  y"),
                                std::string_view("\xc3\xa9t\xc3\xa9 \xe2\x96\x81 \xf0\x9f\x98\x80 <s></s>"),
                                parts[0].substr(0, 64)}) {
    auto ids = t->encode(text);
    for (int32_t id : ids)
      if (id < 0 || id >= t->n_vocab()) __builtin_trap();
    (void)t->decode(ids);
  }
  return 0;
}
