// Source tensors of an HF checkpoint, memory-mapped, converted row range by row range.
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "convert/hf_internal.hpp"
#include "util/file_io.hpp"
#include "util/parallel_jobs.hpp"
#include "modelswarm/hf_checkpoint.hpp"
#include "modelswarm/kernels.hpp"
#include "modelswarm/quant.hpp"

namespace modelswarm {

bool convert::hf_source_type(GgmlType type) {
  const auto t = ggml_type_traits(static_cast<uint32_t>(type));
  return t && t->block_elements == 1 && quant_supported(type);
}

struct HfTensorReader::Impl {
  std::vector<file_io::MappedFile> maps;
  std::vector<TensorInfo> sources;  // HfCheckpoint::info.tensors
  std::vector<float> rope_freqs;
  std::string dir;
};

HfTensorReader::HfTensorReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HfTensorReader::HfTensorReader(HfTensorReader&&) noexcept = default;
HfTensorReader& HfTensorReader::operator=(HfTensorReader&&) noexcept = default;
HfTensorReader::~HfTensorReader() = default;

Result<HfTensorReader> HfTensorReader::open(const HfCheckpoint& ck) {
  auto impl = std::make_unique<Impl>();
  impl->sources = ck.info.tensors;
  impl->rope_freqs = ck.rope_freqs;
  impl->dir = ck.dir.string();
  for (size_t i = 0; i < ck.info.files.size(); ++i) {
    MS_ASSIGN_OR_RETURN(file_io::MappedFile m, file_io::MappedFile::open(ck.info.files[i]));
    if (m.size() != ck.info.file_sizes[i])
      return Error::io(ck.info.files[i].string() + ": file changed since its header was read");
    impl->maps.push_back(std::move(m));
  }
  return HfTensorReader(std::move(impl));
}

Status HfTensorReader::convert_rows(const HfTensor& t, GgmlType type, uint64_t row0, uint64_t n,
                                    void* dst, unsigned threads) const {
  const auto rb = ggml_row_bytes(type, t.cols);
  if (!rb || !matmul_supported(type))
    return Error::invalid_argument(t.gguf_name + ": cannot convert to this type");
  if (row0 > t.rows || n > t.rows - row0) return Error::invalid_argument(t.gguf_name + ": row range out of bounds");
  auto* out = static_cast<uint8_t*>(dst);
  if (t.source < 0) {  // computed by the converter (rope_freqs)
    if (type != GgmlType::F32 || impl_->rope_freqs.size() != t.cols || n != 1)
      return Error::invalid_argument(t.gguf_name + ": only as F32");
    std::memcpy(out, impl_->rope_freqs.data(), t.cols * 4);
    return {};
  }
  if (static_cast<size_t>(t.source) >= impl_->sources.size())
    return Error::invalid_argument(t.gguf_name + ": not a tensor of this checkpoint");
  const TensorInfo& s = impl_->sources[t.source];
  const GgmlType stype = *s.ggml_type;
  const uint64_t src_rb = t.cols * ggml_type_traits(static_cast<uint32_t>(stype))->block_bytes;
  const file_io::MappedFile& m = impl_->maps[s.file_index];
  if (s.offset + t.rows * src_rb > m.size() || s.size != t.rows * src_rb)
    return Error::format(impl_->dir + ": tensor " + s.name + " does not fit its file");
  const uint8_t* base = m.data() + s.offset;
  if (stype == type && t.permute_head_dim == 0 && t.add == 0) {  // same encoding: a plain copy
    std::memcpy(out, base + row0 * src_rb, n * src_rb);
    return {};
  }
  // Rows per task: enough work to amortise a thread, few enough to balance.
  const uint64_t grain = std::max<uint64_t>(1, (uint64_t{1} << 16) / t.cols);
  parallel_ranges(n, grain, threads, [&](uint64_t b, uint64_t e) {
    std::vector<float> buf(t.cols);
    for (uint64_t i = b; i < e; ++i) {
      uint64_t r = row0 + i;
      if (t.permute_head_dim) r = hf_source_row(r, t.permute_head_dim);
      // Cannot fail: the source type was checked when the checkpoint was opened, the rest above.
      (void)dequantize_row(stype, base + r * src_rb, buf.data(), t.cols);
      if (t.add != 0)
        for (float& x : buf) x += t.add;
      (void)quantize_row(type, buf.data(), out + i * *rb, t.cols);
    }
  });
  return {};
}

void HfTensorReader::release(const HfTensor& t, uint64_t row0, uint64_t n) const {
  if (t.source < 0 || static_cast<size_t>(t.source) >= impl_->sources.size() || t.rows == 0) return;
  const TensorInfo& s = impl_->sources[t.source];
  const file_io::MappedFile& m = impl_->maps[s.file_index];
  n = std::min(n, t.rows - std::min(row0, t.rows));
  if (t.permute_head_dim) {  // GGUF rows of whole heads come from the same heads' HF rows
    const uint64_t h = t.permute_head_dim, end = (row0 + n) / h * h;
    row0 = (row0 + h - 1) / h * h;
    n = end > row0 ? end - row0 : 0;
  }
  const uint64_t src_rb = s.size / t.rows;
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t first = s.offset + row0 * src_rb, last = first + n * src_rb;
  // Whole pages inside the range only: a neighbour's page may still be needed.
  const uint64_t b = (first + page - 1) / page * page, e = std::min(m.size(), last) / page * page;
  if (m.data() && e > b) ::madvise(const_cast<uint8_t*>(m.data()) + b, e - b, MADV_DONTNEED);
}

}  // namespace modelswarm
