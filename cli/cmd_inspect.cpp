// modelswarm inspect: what a model file (or a sharded safetensors directory) holds — format,
// architecture and hyper-parameters, parameter count, bytes per tensor type, the tensor table.
// Reads headers only, so it takes milliseconds on multi-GB files.
#include <cinttypes>
#include <cstdio>
#include <map>

#include "command.hpp"
#include "units.hpp"
#include "modelswarm/model_info.hpp"

namespace modelswarm::cli {
namespace {

std::string human_count(uint64_t n) {
  char buf[32];
  if (n >= 1'000'000'000) std::snprintf(buf, sizeof buf, "%.2f B", n / 1e9);
  else if (n >= 1'000'000) std::snprintf(buf, sizeof buf, "%.2f M", n / 1e6);
  else if (n >= 1'000) std::snprintf(buf, sizeof buf, "%.2f K", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%" PRIu64, n);
  return buf;
}

std::string shape_text(const std::vector<uint64_t>& s) {
  if (s.empty()) return "scalar";
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? " x " : "") + std::to_string(s[i]);
  return out;
}

nlohmann::json value_json(const MetaValue& v) {
  switch (v.type()) {
    case MetaType::string: return *v.as_string();
    case MetaType::boolean: return *v.as_bool();
    case MetaType::f32: case MetaType::f64: return *v.as_decimal();
    case MetaType::array:
      // Vocabularies have 150k entries: summarise arrays rather than dump them.
      return {{"array", meta_type_name(v.elem_type())}, {"count", v.size()}};
    default:
      if (auto u = v.as_u64()) return *u;
      return *v.as_i64();
  }
}

struct TypeShare {
  uint64_t tensors = 0, parameters = 0, bytes = 0;
};

// Hyper-parameters: GGUF "<arch>.*" keys; safetensors config.json scalars.
std::vector<std::pair<std::string, const MetaValue*>> hyper_parameters(const ModelInfo& m) {
  std::string prefix = m.format == ModelFormat::gguf ? m.architecture() + "." : "config.";
  std::vector<std::pair<std::string, const MetaValue*>> out;
  if (prefix == ".") return out;
  for (const auto& [k, v] : m.metadata.entries())
    if (k.rfind(prefix, 0) == 0 && k != "config.architecture" && !v.is_array())
      out.emplace_back(k.substr(prefix.size()), &v);
  return out;
}

class InspectCommand : public Command {
 public:
  void configure(CLI::App& app) override {
    app.add_option("path", path_, "A .gguf or .safetensors file, or a model directory")->required();
    app.add_flag("--metadata", all_metadata_, "Also list every metadata key");
    app.add_flag("--no-tensors", no_tensors_, "Leave out the tensor table");
  }

  int run(const Globals& g) override {
    auto r = read_model_info(path_);
    if (!r.ok()) return report_error(g, r.error());
    const ModelInfo& m = *r;
    std::map<std::string, TypeShare> types;
    for (const auto& t : m.tensors) {
      auto& s = types[t.dtype];
      ++s.tensors;
      s.parameters += t.element_count();
      s.bytes += t.size;
    }
    if (g.json) print_json(to_json(m, types));
    else print_text(m, types);
    return kExitOk;
  }

 private:
  nlohmann::json to_json(const ModelInfo& m, const std::map<std::string, TypeShare>& types) const {
    using json = nlohmann::json;
    json files = json::array();
    for (size_t i = 0; i < m.files.size(); ++i)
      files.push_back({{"path", m.files[i].string()}, {"size", m.file_sizes[i]},
                       {"header_size", m.header_sizes[i]}});
    json hp = json::object();
    for (const auto& [k, v] : hyper_parameters(m)) hp[k] = value_json(*v);
    json md = json::object();
    for (const auto& [k, v] : m.metadata.entries()) md[k] = value_json(v);
    json ty = json::array();
    const uint64_t total = m.tensor_bytes();
    for (const auto& [name, s] : types)
      ty.push_back({{"dtype", name}, {"tensors", s.tensors}, {"parameters", s.parameters},
                    {"bytes", s.bytes}, {"share", total ? double(s.bytes) / double(total) : 0.0}});
    json doc = {{"path", path_},
                {"format", model_format_name(m.format)},
                {"files", files},
                {"architecture", m.architecture()},
                {"parameters", m.parameter_count()},
                {"tensor_bytes", total},
                {"tensor_count", m.tensors.size()},
                {"shape_order", m.format == ModelFormat::gguf ? "innermost_first" : "outermost_first"},
                {"hyperparameters", hp},
                {"metadata", md},
                {"types", ty}};
    if (m.format == ModelFormat::gguf) {
      doc["gguf_version"] = m.gguf_version;
      doc["alignment"] = m.gguf_alignment;
    }
    if (!no_tensors_) {
      json ts = json::array();
      for (const auto& t : m.tensors)
        ts.push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape},
                      {"offset", t.offset}, {"size", t.size}, {"file", t.file_index}});
      doc["tensors"] = std::move(ts);
    }
    return doc;
  }

  void print_text(const ModelInfo& m, const std::map<std::string, TypeShare>& types) const {
    uint64_t file_bytes = 0;
    for (uint64_t s : m.file_sizes) file_bytes += s;
    std::printf("path:          %s\n", path_.c_str());
    if (m.format == ModelFormat::gguf)
      std::printf("format:        GGUF v%u (alignment %u), %s\n", m.gguf_version, m.gguf_alignment,
                  format_size(file_bytes).c_str());
    else
      std::printf("format:        safetensors, %zu file%s, %s\n", m.files.size(),
                  m.files.size() == 1 ? "" : "s", format_size(file_bytes).c_str());
    std::string arch = m.architecture();
    std::printf("architecture:  %s\n", arch.empty() ? "(unknown)" : arch.c_str());
    std::string name = m.metadata.string_or("general.name", "");
    if (!name.empty()) std::printf("name:          %s\n", name.c_str());
    std::printf("parameters:    %s (%" PRIu64 ")\n", human_count(m.parameter_count()).c_str(),
                m.parameter_count());
    if (auto tok = m.metadata.find("tokenizer.ggml.tokens"))
      std::printf("tokenizer:     %s, %" PRIu64 " tokens\n",
                  m.metadata.string_or("tokenizer.ggml.model", "?").c_str(), tok->size());
    auto hp = hyper_parameters(m);
    if (!hp.empty()) {
      std::printf("\nhyper-parameters:\n");
      for (const auto& [k, v] : hp) std::printf("  %-36s %s\n", k.c_str(), v->to_display().c_str());
    }
    if (all_metadata_) {
      std::printf("\nmetadata (%zu keys):\n", m.metadata.size());
      for (const auto& [k, v] : m.metadata.entries())
        std::printf("  %-40s %s\n", k.c_str(), v.to_display().c_str());
    }
    const uint64_t total = m.tensor_bytes();
    std::printf("\ntensor types:\n");
    for (const auto& [dtype, s] : types)
      std::printf("  %-8s %6" PRIu64 " tensors %12s params %12s %6.2f%%\n", dtype.c_str(), s.tensors,
                  human_count(s.parameters).c_str(), format_size(s.bytes).c_str(),
                  total ? 100.0 * double(s.bytes) / double(total) : 0.0);
    if (no_tensors_) return;
    size_t w = 4;
    for (const auto& t : m.tensors) w = std::max(w, t.name.size());
    std::printf("\ntensors (%zu; shape %s):\n", m.tensors.size(),
                m.format == ModelFormat::gguf ? "innermost first, as GGUF stores it"
                                              : "outermost first, as safetensors stores it");
    std::printf("  %-*s %-8s %-20s %14s %14s%s\n", static_cast<int>(w), "name", "dtype", "shape",
                "offset", "bytes", m.files.size() > 1 ? "  file" : "");
    for (const auto& t : m.tensors) {
      std::printf("  %-*s %-8s %-20s %14" PRIu64 " %14" PRIu64, static_cast<int>(w), t.name.c_str(),
                  t.dtype.c_str(), shape_text(t.shape).c_str(), t.offset, t.size);
      if (m.files.size() > 1) std::printf("  %s", m.files[t.file_index].filename().c_str());
      std::printf("\n");
    }
  }

  std::string path_;
  bool all_metadata_ = false, no_tensors_ = false;
};

}  // namespace

MODELSWARM_COMMAND("inspect", "Show a model's format, hyper-parameters and tensor table", InspectCommand);

}  // namespace modelswarm::cli
