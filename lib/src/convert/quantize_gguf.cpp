// HF checkpoint -> GGUF: metadata as llama.cpp's converter orders it, then tensor data chunk by
// chunk (each chunk converted on every core, then appended).
#include <algorithm>

#include "modelswarm/gguf_writer.hpp"
#include "modelswarm/quantize.hpp"

namespace modelswarm {

namespace {
constexpr uint64_t kChunkBytes = 4u << 20;  // output bytes converted per step

// The type of each tensor: the mix's per-tensor rules, or one file type (hf_tensor_type).
std::vector<GgmlType> tensor_types(const HfCheckpoint& ck, const QuantizeOptions& o) {
  std::vector<GgmlType> types;
  QuantMixTensor m;
  m.arch = ck.arch;
  m.n_layer = ck.metadata.u32_or(ck.arch + ".block_count", 0);
  m.n_head = ck.metadata.u32_or(ck.arch + ".attention.head_count", 0);
  m.n_head_kv = ck.metadata.u32_or(ck.arch + ".attention.head_count_kv", m.n_head);
  m.has_output = ck.has_output;
  for (const auto& t : ck.tensors) {
    if (!o.mix) {
      types.push_back(hf_tensor_type(t, o.type, ck.has_output));
      continue;
    }
    m.name = t.gguf_name;
    m.n_dims = static_cast<uint32_t>(t.gguf_dims().size());
    m.cols = t.cols;
    const auto layer = gguf_block_index(t.gguf_name);
    m.layer = layer ? int64_t(*layer) : -1;
    types.push_back(quant_mix_tensor_type(*o.mix, m));
  }
  return types;
}
}  // namespace

bool quantize_type_supported(GgmlType type) {
  const auto t = ggml_type_traits(static_cast<uint32_t>(type));
  return t && t->quantize;
}

std::string quantize_type_names(std::string_view sep) {
  return ggml_type_names([](const GgmlTypeTraits& t) { return t.quantize; }, sep);
}

Result<QuantizeStats> quantize_checkpoint(const HfCheckpoint& ck, const std::filesystem::path& out,
                                          const QuantizeOptions& o) {
  if (!o.mix && !quantize_type_supported(o.type))
    return Error::invalid_argument("quantize: type must be one of " + quantize_type_names(" ") + " " +
                                   quant_mix_names(" "));
  const uint32_t file_type = o.mix ? quant_mix_info(*o.mix).file_type : llama_file_type_of(o.type);
  const bool quantized =
      o.mix || ggml_type_traits(static_cast<uint32_t>(o.type))->block_elements > 1;
  GgufWriter w;
  // general.file_type goes after the hyper-parameters and before the tokenizer, as llama.cpp
  // writes it.
  bool typed = false;
  auto add_file_type = [&] {
    w.metadata().set("general.file_type", MetaValue::u32(file_type));
    if (quantized) w.metadata().set("general.quantization_version", MetaValue::u32(2));
    typed = true;
  };
  for (const auto& [k, v] : ck.metadata.entries()) {
    if (!typed && k.starts_with("tokenizer.")) add_file_type();
    if (k == "general.name" && !o.name.empty()) w.metadata().set(k, MetaValue::string(o.name));
    else w.metadata().set(k, v);
  }
  if (!typed) add_file_type();

  const std::vector<GgmlType> types = tensor_types(ck, o);
  QuantizeStats st;
  for (size_t i = 0; i < ck.tensors.size(); ++i) {
    MS_TRY(w.add_tensor(ck.tensors[i].gguf_name, types[i], ck.tensors[i].gguf_dims()));
    ++st.tensors_by_type[static_cast<uint32_t>(types[i])];
  }
  MS_ASSIGN_OR_RETURN(HfTensorReader reader, HfTensorReader::open(ck));
  MS_TRY(w.begin(out));

  st.input_bytes = ck.input_bytes();
  uint64_t done = 0;
  std::vector<uint8_t> buf;
  for (size_t i = 0; i < ck.tensors.size(); ++i) {
    const HfTensor& t = ck.tensors[i];
    const uint64_t rb = *ggml_row_bytes(types[i], t.cols);
    const uint64_t in_rb = t.source >= 0 ? ck.info.tensors[t.source].size / t.rows : 0;
    // Whole heads per chunk for permuted Q/K, so each chunk's source rows can be released.
    const uint64_t unit = t.permute_head_dim ? t.permute_head_dim : 1;
    const uint64_t chunk = std::max<uint64_t>(1, kChunkBytes / rb / unit) * unit;
    for (uint64_t r0 = 0; r0 < t.rows; r0 += chunk) {
      const uint64_t n = std::min(chunk, t.rows - r0);
      buf.resize(n * rb);
      MS_TRY(reader.convert_rows(t, types[i], r0, n, buf.data(), o.threads));
      MS_TRY(w.write_data(buf));
      reader.release(t, r0, n);
      done += n * in_rb;
      if (o.progress && !o.progress(done, st.input_bytes))
        return Error::interrupted(out.string() + ": quantization cancelled");
    }
  }
  MS_TRY(w.finish());
  st.output_bytes = w.file_size();
  st.tensors = ck.tensors.size();
  st.file_type = file_type;
  return st;
}

}  // namespace modelswarm
