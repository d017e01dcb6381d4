#include "store/range_copy.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "util/file_io.hpp"

namespace modelswarm::store {

namespace {

constexpr size_t kBufferBytes = 2u << 20;

bool cancelled(const CopyContext& ctx) { return ctx.cancel && ctx.cancel->load(std::memory_order_relaxed); }

// Full pread; false on error or end of file before `n` bytes: either way the source cannot
// give this chunk, which is not an error of the reuse.
bool read_full(const RangeFile& src, uint8_t* p, size_t n, uint64_t off) {
  auto got = file_io::pread_upto(src.fd, std::span(p, n), off, src.name);
  return got.ok() && *got == n;
}

Status write_full(const RangeFile& dst, const uint8_t* p, size_t n, uint64_t off) {
  return file_io::pwrite_full(dst.fd, std::span(p, n), off, dst.name);
}

Status erase_range(const RangeFile& dst, uint64_t off, uint64_t size, CopyContext& ctx) {
  if (::fallocate(dst.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(off),
                  static_cast<off_t>(size)) == 0)
    return Status::success();
  std::fill(ctx.buffer.begin(), ctx.buffer.end(), 0);
  for (uint64_t done = 0; done < size;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(ctx.buffer.size(), size - done));
    MS_TRY(write_full(dst, ctx.buffer.data(), n, off + done));
    done += n;
  }
  return Status::success();
}

bool clone_eligible(const RangeFile& src, uint64_t src_off, const RangeFile& dst, uint64_t dst_off,
                    uint64_t size, uint64_t block) {
  if (block == 0 || src_off % block || dst_off % block) return false;
  if (size % block == 0) return true;
  // An unaligned tail is allowed only where it ends both files.
  return src_off + size == src.size && dst_off + size == dst.size;
}

// Hashes the source range without writing; nullopt on a read failure.
std::optional<Sha256Digest> hash_range(const RangeFile& src, uint64_t off, uint64_t size,
                                       CopyContext& ctx, uint64_t& bytes_read) {
  Sha256 h;
  for (uint64_t done = 0; done < size;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(ctx.buffer.size(), size - done));
    if (!read_full(src, ctx.buffer.data(), n, off + done)) return std::nullopt;
    h.update(ctx.buffer.data(), n);
    done += n;
    bytes_read += n;
  }
  return h.finish();
}

}  // namespace

Result<CopyOutcome> copy_checked(const RangeFile& src, uint64_t src_off, const RangeFile& dst,
                                 uint64_t dst_off, uint64_t size, const Sha256Digest& want,
                                 uint64_t block, CopyContext& ctx) {
  CopyOutcome out;
  if (ctx.buffer.size() < kBufferBytes) ctx.buffer.resize(kBufferBytes);
  if (src_off > src.size || size > src.size - src_off) {
    out.kind = CopyOutcome::Kind::short_source;
    return out;
  }

  if (ctx.reflink_ok && ctx.reflink_ok->load() &&
      clone_eligible(src, src_off, dst, dst_off, size, block)) {
    auto digest = hash_range(src, src_off, size, ctx, out.bytes_read);
    if (!digest) {
      out.kind = CopyOutcome::Kind::short_source;
      return out;
    }
    if (*digest != want) {
      out.kind = CopyOutcome::Kind::mismatch;
      return out;
    }
    file_clone_range arg{};
    arg.src_fd = src.fd;
    arg.src_offset = src_off;
    arg.src_length = size;
    arg.dest_offset = dst_off;
    if (::ioctl(dst.fd, FICLONERANGE, &arg) == 0) {
      out.kind = CopyOutcome::Kind::cloned;
      return out;
    }
    // Not a reflink filesystem, or two filesystems: never try again in this run.
    if (errno == EOPNOTSUPP || errno == EXDEV || errno == ENOTTY || errno == ENOSYS)
      ctx.reflink_ok->store(false);
  }

  Sha256 h;
  for (uint64_t done = 0; done < size;) {
    if (cancelled(ctx)) return Error::interrupted("reuse interrupted");
    size_t n = static_cast<size_t>(std::min<uint64_t>(ctx.buffer.size(), size - done));
    if (!read_full(src, ctx.buffer.data(), n, src_off + done)) {
      out.kind = CopyOutcome::Kind::short_source;
      return out;
    }
    out.bytes_read += n;
    h.update(ctx.buffer.data(), n);
    MS_TRY(write_full(dst, ctx.buffer.data(), n, dst_off + done));
    done += n;
  }
  if (h.finish() == want) {
    out.kind = CopyOutcome::Kind::copied;
    return out;
  }
  // Bytes of a rejected chunk must not count later either (a recheck would accept the pieces
  // of it that happen to be intact): give the range back as a hole, or zeros.
  out.kind = CopyOutcome::Kind::mismatch;
  MS_TRY(erase_range(dst, dst_off, size, ctx));
  return out;
}

}  // namespace modelswarm::store
