// The per-tensor rules of llama.cpp's K-quant mixes (see quant_mix.hpp). Tensors are told apart
// by the part of their name after "blk.N.", as llama.cpp does, so that suffixed variants
// (ffn_down_exps) follow their family's rule.
#include "modelswarm/quant_mix.hpp"

#include <array>
#include <charconv>

namespace modelswarm {

namespace {

using T = GgmlType;
using M = QuantMix;

constexpr std::array<QuantMixInfo, 7> kMixes = {{
    {M::Q3_K_S, "Q3_K_S", 11, T::Q3_K},
    {M::Q3_K_M, "Q3_K_M", 12, T::Q3_K},
    {M::Q3_K_L, "Q3_K_L", 13, T::Q3_K},
    {M::Q4_K_S, "Q4_K_S", 14, T::Q4_K},
    {M::Q4_K_M, "Q4_K_M", 15, T::Q4_K},
    {M::Q5_K_S, "Q5_K_S", 16, T::Q5_K},
    {M::Q5_K_M, "Q5_K_M", 17, T::Q5_K},
}};

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

uint32_t block_elements(GgmlType t) { return ggml_type_traits(static_cast<uint32_t>(t))->block_elements; }

// The first and last eighth of n layers, and every third layer between them.
bool more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// llama.cpp calls 80-block llama (with grouped-query attention) and qwen2 models "70B" and
// gives their small attn_v matrices more bits.
bool is_70b_class(const QuantMixTensor& t) {
  if (t.n_layer != 80) return false;
  if (t.arch == "llama") return t.n_head != t.n_head_kv;
  return t.arch == "qwen2";
}

GgmlType attn_v_type(M mix, const QuantMixTensor& t, GgmlType base) {
  GgmlType want = base;
  switch (mix) {
    case M::Q3_K_M: want = t.layer < 2 ? T::Q5_K : T::Q4_K; break;
    case M::Q3_K_L: want = T::Q5_K; break;
    case M::Q4_K_M:
    case M::Q5_K_M: if (more_bits(t.layer, t.n_layer)) want = T::Q6_K; break;
    case M::Q4_K_S: if (t.layer < 4) want = T::Q5_K; break;
    default: break;
  }
  if (is_70b_class(t) && (want == T::Q3_K || want == T::Q4_K)) want = T::Q5_K;
  return want;
}

GgmlType ffn_down_type(M mix, const QuantMixTensor& t, GgmlType base) {
  const int64_t i = t.layer, n = t.n_layer;
  const bool falcon = t.arch == "falcon";
  switch (mix) {
    case M::Q3_K_M:
      if (i < n / 16) return T::Q5_K;
      return !falcon || more_bits(i, n) ? T::Q4_K : T::Q3_K;
    case M::Q3_K_L: return falcon ? T::Q4_K : T::Q5_K;
    case M::Q4_K_M:
      if (falcon) return i < n / 16 ? T::Q6_K : more_bits(i, n) ? T::Q5_K : T::Q4_K;
      return more_bits(i, n) ? T::Q6_K : base;
    case M::Q5_K_M: return more_bits(i, n) ? T::Q6_K : base;
    case M::Q4_K_S: return !falcon && i < n / 8 ? T::Q5_K : base;
    default: return base;
  }
}

GgmlType attn_output_type(M mix, const QuantMixTensor& t, GgmlType base) {
  if (t.arch == "falcon") return mix == M::Q3_K_L ? T::Q4_K : base;
  if (mix == M::Q3_K_M) return T::Q4_K;
  if (mix == M::Q3_K_L) return T::Q5_K;
  return base;
}

GgmlType attn_qkv_type(M mix, GgmlType base) {
  switch (mix) {
    case M::Q3_K_M:
    case M::Q3_K_L: return T::Q4_K;
    case M::Q4_K_M: return T::Q5_K;
    case M::Q5_K_M: return T::Q6_K;
    default: return base;
  }
}

// A type whose blocks do not tile the row: the nearest 32-element one, then F16.
GgmlType fit_row(GgmlType want, uint64_t cols) {
  if (cols % block_elements(want) == 0) return want;
  switch (want) {
    case T::Q2_K:
    case T::Q3_K:
    case T::IQ4_XS: want = T::IQ4_NL; break;
    case T::Q4_K: want = T::Q5_0; break;
    case T::Q5_K: want = T::Q5_1; break;
    case T::Q6_K: want = T::Q8_0; break;
    default: break;
  }
  return cols % block_elements(want) == 0 ? want : T::F16;
}

}  // namespace

std::span<const QuantMixInfo> quant_mixes() { return kMixes; }

const QuantMixInfo& quant_mix_info(QuantMix mix) { return kMixes[static_cast<size_t>(mix)]; }

std::optional<QuantMix> quant_mix_from_name(std::string_view name) {
  for (const auto& m : kMixes)
    if (m.name == name) return m.mix;
  return std::nullopt;
}

std::string quant_mix_names(std::string_view sep) {
  std::string out;
  for (const auto& m : kMixes) {
    if (!out.empty()) out += sep;
    out += m.name;
  }
  return out;
}

std::optional<uint32_t> gguf_block_index(std::string_view name) {
  constexpr std::string_view kPrefix = "blk.";
  if (!name.starts_with(kPrefix)) return std::nullopt;
  const char* first = name.data() + kPrefix.size();
  const char* last = name.data() + name.size();
  uint32_t n = 0;
  auto [p, ec] = std::from_chars(first, last, n);
  if (ec != std::errc() || p == first || p == last || *p != '.') return std::nullopt;
  return n;
}

GgmlType quant_mix_tensor_type(QuantMix mix, const QuantMixTensor& t) {
  if (t.n_dims < 2) return T::F32;
  const GgmlType base = quant_mix_info(mix).base;
  const std::string_view name = t.name;
  const bool is_output = name == "output.weight" || (!t.has_output && name == "token_embd.weight");
  if (is_output) {
    // Whole blocks of the mix's base type or Q8_0, as llama.cpp decides before any fallback.
    const GgmlType want = t.arch == "falcon" || t.cols % block_elements(base) ? T::Q8_0 : T::Q6_K;
    return fit_row(want, t.cols);
  }
  GgmlType want = base;  // token_embd, attn_q/k, ffn_gate/up among others
  if (contains(name, "attn_v.weight")) want = attn_v_type(mix, t, base);
  else if (contains(name, "ffn_down")) want = ffn_down_type(mix, t, base);
  else if (contains(name, "attn_output.weight")) want = attn_output_type(mix, t, base);
  else if (contains(name, "attn_qkv.weight")) want = attn_qkv_type(mix, base);
  return fit_row(want, t.cols);
}

}  // namespace modelswarm
