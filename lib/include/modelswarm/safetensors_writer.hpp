// safetensors writer: deterministic header (JSON keys sorted, padded with spaces to a multiple of
// 8 bytes so tensor data is 8-aligned), tensors laid out contiguously in declaration order,
// data streamed, the file renamed into place only by finish(). Plus the index of a sharded
// checkpoint.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/safetensors.hpp"

namespace modelswarm {

namespace format {
class OutputFile;
}

class SafetensorsWriter {
 public:
  SafetensorsWriter();
  ~SafetensorsWriter();  // an unfinished file is removed
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  // `__metadata__` entries (string -> string).
  void set_metadata(std::string key, std::string value);

  // Declares the next tensor; `shape` outermost first. Errors: invalid_argument (unknown
  // dtype, duplicate or empty name, "__metadata__", sub-byte dtype not filling whole bytes).
  Status add_tensor(std::string name, std::string dtype, std::vector<uint64_t> shape);
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  uint64_t data_size() const { return data_size_; }

  std::string header_json() const;  // with the space padding
  Status begin(const std::filesystem::path& path);
  // Appends tensor data in declaration order; may span tensors.
  Status write_data(std::span<const uint8_t> bytes);
  Status finish();

 private:
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::vector<SafetensorsTensor> tensors_;
  uint64_t data_size_ = 0;
  uint64_t written_ = 0;
  std::filesystem::path path_;
  std::unique_ptr<format::OutputFile> out_;
};

// Writes model.safetensors.index.json (atomically): {"metadata": {"total_size": N},
// "weight_map": {tensor: shard}} with sorted keys.
Status write_safetensors_index(const std::filesystem::path& path,
                               const std::map<std::string, std::string>& weight_map,
                               uint64_t total_size);

}  // namespace modelswarm
