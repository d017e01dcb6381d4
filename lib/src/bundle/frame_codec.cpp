#include <zstd.h>

#include "bundle/bundle_format.hpp"
#include "bundle/byte_group.hpp"

namespace modelswarm {

struct FrameCodecScratch {
  ZSTD_CCtx* cctx = nullptr;
  ZSTD_DCtx* dctx = nullptr;
  std::vector<uint8_t> grouped;
  ~FrameCodecScratch() {
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
  }
};

FrameCodec::FrameCodec() : s_(std::make_unique<FrameCodecScratch>()) {}
FrameCodec::~FrameCodec() = default;

Result<FrameEncoding> FrameCodec::encode(std::span<const uint8_t> data, unsigned float_width,
                                         int level, std::vector<uint8_t>& out) {
  if (!s_->cctx && !(s_->cctx = ZSTD_createCCtx())) return Error::internal("zstd: out of memory");
  std::span<const uint8_t> input = data;
  FrameEncoding encoding = FrameEncoding::zstd;
  if (float_width == 2 || float_width == 4) {
    s_->grouped.resize(data.size());
    byte_group(float_width, data, s_->grouped);
    input = s_->grouped;
    encoding = float_width == 2 ? FrameEncoding::grouped2_zstd : FrameEncoding::grouped4_zstd;
  }
  ZSTD_CCtx_reset(s_->cctx, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(s_->cctx, ZSTD_c_compressionLevel, level);
  // The decoder checks the declared size against the index; no per-frame checksum is needed
  // because every chunk's SHA-256 is checked against the signed manifest.
  ZSTD_CCtx_setParameter(s_->cctx, ZSTD_c_contentSizeFlag, 1);
  out.resize(ZSTD_compressBound(input.size()));
  size_t n = ZSTD_compress2(s_->cctx, out.data(), out.size(), input.data(), input.size());
  if (ZSTD_isError(n)) return Error::internal(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n >= data.size()) {
    out.assign(data.begin(), data.end());
    return FrameEncoding::raw;
  }
  out.resize(n);
  return encoding;
}

Status FrameCodec::decode(FrameEncoding encoding, std::span<const uint8_t> stored,
                          std::span<uint8_t> out, const std::string& name) {
  if (encoding == FrameEncoding::raw) {
    if (stored.size() != out.size()) return Error::format(name + ": raw frame has the wrong length");
    std::copy(stored.begin(), stored.end(), out.begin());
    return {};
  }
  if (!s_->dctx && !(s_->dctx = ZSTD_createDCtx())) return Error::internal("zstd: out of memory");
  unsigned long long declared = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (declared != out.size()) return Error::format(name + ": zstd frame declares the wrong length");
  std::span<uint8_t> target = out;
  unsigned width = encoding == FrameEncoding::grouped2_zstd ? 2
                   : encoding == FrameEncoding::grouped4_zstd ? 4 : 0;
  if (width) {
    s_->grouped.resize(out.size());
    target = s_->grouped;
  }
  // Exactly one frame must fill the target: ZSTD_decompressDCtx would also accept several
  // concatenated frames, so the frame's own compressed size must equal the stored length.
  size_t frame = ZSTD_findFrameCompressedSize(stored.data(), stored.size());
  if (ZSTD_isError(frame) || frame != stored.size())
    return Error::format(name + ": malformed zstd frame");
  size_t n = ZSTD_decompressDCtx(s_->dctx, target.data(), target.size(), stored.data(), stored.size());
  if (ZSTD_isError(n)) return Error::format(name + ": corrupt zstd frame (" + ZSTD_getErrorName(n) + ")");
  if (n != out.size()) return Error::format(name + ": zstd frame decodes to the wrong length");
  if (width) byte_ungroup(width, target, out);
  return {};
}

}  // namespace modelswarm
