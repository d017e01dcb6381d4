#include "modelswarm/safetensors_writer.hpp"

#include <nlohmann/json.hpp>

#include "format/output_file.hpp"
#include "format/utf8.hpp"

namespace modelswarm {

SafetensorsWriter::SafetensorsWriter() = default;
SafetensorsWriter::~SafetensorsWriter() = default;

void SafetensorsWriter::set_metadata(std::string key, std::string value) {
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(value));
}

Status SafetensorsWriter::add_tensor(std::string name, std::string dtype,
                                     std::vector<uint64_t> shape) {
  if (out_) return Error::internal("SafetensorsWriter::add_tensor after begin()");
  if (name.empty() || name == "__metadata__" || !format::is_valid_utf8(name))
    return Error::invalid_argument("tensor name '" + format::printable_name(name) + "' is not allowed");
  for (const auto& t : tensors_)
    if (t.name == name) return Error::invalid_argument("duplicate tensor name '" + name + "'");
  auto info = safetensors_dtype(dtype);
  if (!info) return Error::invalid_argument("unknown safetensors dtype '" + dtype + "'");
  uint64_t elements = 1;
  for (uint64_t d : shape) {
    if (d != 0 && elements > (uint64_t{1} << 56) / d)
      return Error::invalid_argument("tensor '" + name + "' is too large");
    elements *= d;
  }
  if (elements * info->bits % 8 != 0)
    return Error::invalid_argument("tensor '" + name + "' of " + dtype + " does not fill whole bytes");
  SafetensorsTensor t;
  t.name = std::move(name);
  t.dtype = std::move(dtype);
  t.shape = std::move(shape);
  t.begin = data_size_;
  t.end = data_size_ + elements * info->bits / 8;
  data_size_ = t.end;
  tensors_.push_back(std::move(t));
  return {};
}

std::string SafetensorsWriter::header_json() const {
  nlohmann::json j = nlohmann::json::object();
  if (!metadata_.empty()) {
    nlohmann::json m = nlohmann::json::object();
    for (const auto& [k, v] : metadata_) m[k] = v;
    j["__metadata__"] = std::move(m);
  }
  for (const auto& t : tensors_)
    j[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {t.begin, t.end}}};
  std::string s = j.dump();
  while ((8 + s.size()) % 8 != 0) s.push_back(' ');
  return s;
}

Status SafetensorsWriter::begin(const std::filesystem::path& path) {
  if (out_) return Error::internal("SafetensorsWriter::begin called twice");
  std::string header = header_json();
  if (header.size() > kSafetensorsMaxHeader)
    return Error::invalid_argument(path.string() + ": header would exceed the 100 MB limit");
  path_ = path;
  out_ = std::make_unique<format::OutputFile>();
  MS_TRY(out_->open(path));
  uint64_t n = header.size();
  MS_TRY(out_->write(&n, sizeof n));
  MS_TRY(out_->write(header.data(), header.size()));
  written_ = 0;
  return {};
}

Status SafetensorsWriter::write_data(std::span<const uint8_t> bytes) {
  if (!out_ || !out_->is_open()) return Error::internal("SafetensorsWriter::write_data before begin()");
  if (bytes.size() > data_size_ - written_)
    return Error::invalid_argument(path_.string() + ": more tensor data than declared");
  MS_TRY(out_->write(bytes));
  written_ += bytes.size();
  return {};
}

Status SafetensorsWriter::finish() {
  if (!out_ || !out_->is_open()) return Error::internal("SafetensorsWriter::finish before begin()");
  if (written_ != data_size_) {
    out_->abandon();
    return Error::invalid_argument(path_.string() + ": " + std::to_string(data_size_ - written_) +
                                   " bytes of tensor data were not written");
  }
  return out_->commit();
}

Status write_safetensors_index(const std::filesystem::path& path,
                               const std::map<std::string, std::string>& weight_map,
                               uint64_t total_size) {
  nlohmann::json j = {{"metadata", {{"total_size", total_size}}}, {"weight_map", weight_map}};
  std::string s = j.dump(2) + "\n";
  format::OutputFile out;
  MS_TRY(out.open(path));
  MS_TRY(out.write(s.data(), s.size()));
  return out.commit();
}

}  // namespace modelswarm
