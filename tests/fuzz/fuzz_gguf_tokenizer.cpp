// A tokenizer loaded from GGUF metadata (tokenizer.ggml.*) on arbitrary bytes: the GGUF parser,
// vocab_from_metadata and Tokenizer::create must refuse what they cannot use, and a tokenizer
// they accept must encode and decode any text without leaving its vocabulary.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "modelswarm/gguf.hpp"
#include "modelswarm/infer.hpp"
#include "modelswarm/tokenizer.hpp"

using namespace modelswarm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = parse_gguf(std::span(data, size), size, "fuzz.gguf");
  if (!f.ok()) return 0;
  auto vocab = vocab_from_metadata(f->metadata);
  if (!vocab.ok()) return 0;
  auto t = Tokenizer::create(std::move(vocab).value(), "fuzz.gguf");
  if (!t.ok()) return 0;
  const int32_t n = t->n_vocab();
  if (n <= 0) __builtin_trap();
  // The input's last bytes double as text, so that the fuzzer steers what is encoded.
  const std::string_view tail(reinterpret_cast<const char*>(data) + (size > 48 ? size - 48 : 0),
                              size > 48 ? 48 : size);
  for (std::string_view text : {std::string_view("Hello world, it's 2024!\n\tx  y <|eot_id|>"),
                                std::string_view("\xc3\xa9t\xc3\xa9 \xe2\x96\x81 \xf0\x9f\x98\x80 <s></s>"),
                                tail}) {
    for (bool special : {false, true}) {
      auto ids = t->encode(text, special, special);
      for (int32_t id : ids)
        if (id < 0 || id >= n) __builtin_trap();
      (void)t->decode(ids, special);
    }
  }
  for (int32_t id : {0, n - 1, n / 2, t->bos(), t->eos(), -1, n}) {
    (void)t->piece(id, true);
    if (id >= 0 && id < n) (void)t->find(t->token_text(id));
  }
  Utf8Streamer s;
  (void)s.push(tail);
  (void)s.flush();
  return 0;
}
