// HF config.json parser on arbitrary bytes: an error, or hyper-parameters the converter can use
// without further checks (the checkpoint builder multiplies and divides by them).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "convert/hf_internal.hpp"

using namespace modelswarm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = convert::parse_json_object(std::string_view(reinterpret_cast<const char*>(data), size),
                                      "config.json");
  if (!j.ok()) return 0;
  auto r = convert::parse_hf_config(*j, "config.json");
  if (!r.ok()) return 0;
  const convert::HfConfig& c = *r;
  if (c.arch != "llama" && c.arch != "qwen2" && c.arch != "qwen3" && c.arch != "gemma3") __builtin_trap();
  // gemma3 always has a window; the others never.
  if ((c.arch == "gemma3") != (c.n_swa != 0)) __builtin_trap();
  if (!(c.attn_scale >= 0) || !std::isfinite(c.attn_scale)) __builtin_trap();
  if (c.n_embd == 0 || c.n_layer == 0 || c.n_ff == 0 || c.n_head == 0 || c.n_head_kv == 0) __builtin_trap();
  if (c.n_head % c.n_head_kv != 0) __builtin_trap();
  // Heads may be wider or narrower than n_embd / n_head (config "head_dim"), never odd or huge.
  if (c.head_dim == 0 || c.head_dim % 2 != 0 || c.head_dim > 1024) __builtin_trap();
  if (!c.rope_freqs.empty() && c.rope_freqs.size() != c.head_dim / 2) __builtin_trap();
  Metadata md;
  convert::add_hparams(md, c);
  for (const auto& [k, v] : md.entries()) (void)v.to_display();
  return 0;
}
