// Deterministic GGUF v3 writer. The same metadata, tensors and data always give the same bytes:
// metadata in insertion order, tensor infos in declaration order, each tensor's data padded
// with zeros to the alignment. Tensor data is streamed, so a multi-GB model never has to sit in
// memory, and the file appears under its final name only when finish() succeeds.
//
// Usage:
//   GgufWriter w;                                   // alignment 32
//   w.metadata().set("general.architecture", MetaValue::string("llama"));
//   MS_TRY(w.add_tensor("token_embd.weight", GgmlType::Q4_0, {dim, vocab}));  // innermost first
//   MS_TRY(w.begin(path));                          // writes the header
//   MS_TRY(w.write_data(bytes));                    // any number of calls, tensors in order
//   MS_TRY(w.finish());                             // checks completeness, fsync, rename
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/ggml_type.hpp"
#include "modelswarm/gguf.hpp"
#include "modelswarm/metadata.hpp"

namespace modelswarm {

namespace format {
class OutputFile;
}

class GgufWriter {
 public:
  // REQUIRES: alignment is a power of two. A non-default alignment is recorded as
  // general.alignment (u32) unless the metadata already holds that key.
  explicit GgufWriter(uint32_t alignment = kGgufDefaultAlignment);
  ~GgufWriter();  // an unfinished file is removed
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  Metadata& metadata() { return metadata_; }

  // Declares the next tensor. `dims` innermost first (GGUF order), at most 4; dims[0] must be a
  // multiple of the type's block size. Errors: invalid_argument (duplicate or non-UTF-8 name,
  // bad dims). REQUIRES: begin() not called yet.
  Status add_tensor(std::string name, GgmlType type, std::vector<uint64_t> dims);
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

  // Size of the header including padding, i.e. where tensor data starts (valid once all
  // tensors are declared; does not write anything).
  uint64_t data_offset() const;
  uint64_t file_size() const;  // header + all tensor data with padding

  // Creates a temporary file next to `path` and writes the header.
  Status begin(const std::filesystem::path& path);
  // Appends tensor data; bytes may span tensor boundaries. Padding is inserted automatically
  // when a tensor is complete. Error if more bytes are given than declared.
  Status write_data(std::span<const uint8_t> bytes);
  // Index of the tensor the next write_data byte belongs to (tensors().size() when all written).
  size_t current_tensor() const { return current_; }
  // Verifies that every tensor's data was written, then fsyncs and renames into place.
  Status finish();

  // The header bytes (magic .. padding) that begin() writes.
  std::vector<uint8_t> header_bytes() const;

 private:
  uint32_t alignment_;
  Metadata metadata_;
  std::vector<GgufTensorInfo> tensors_;
  uint64_t data_size_ = 0;  // with padding
  std::unique_ptr<format::OutputFile> out_;
  std::filesystem::path path_;
  size_t current_ = 0;
  uint64_t written_in_current_ = 0;
};

// Serialises one metadata value as GGUF stores it (without the type tag), for tools that
// compute sizes or hashes of metadata.
void append_gguf_value(std::vector<uint8_t>& out, const MetaValue& v);

}  // namespace modelswarm
