// How much a BitTorrent v2 download still needs once some chunks are in place: v2 pieces are
// per file and start at the file's first byte, and a piece is only usable when every byte of it
// hashes right, so a piece with a single missing byte is downloaded whole.
#include <algorithm>

#include "modelswarm/store.hpp"

namespace modelswarm {

uint64_t bytes_to_download(const Manifest& m, const std::vector<std::vector<ByteRange>>& present,
                           uint64_t piece_size) {
  uint64_t need = 0;
  for (size_t fi = 0; fi < m.files.size(); ++fi) {
    const uint64_t size = m.files[fi].size;
    std::vector<ByteRange> have = fi < present.size() ? present[fi] : std::vector<ByteRange>{};
    std::sort(have.begin(), have.end(),
              [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
    // Walk pieces and the sorted ranges together: `covered` is the end of the contiguous
    // prefix of present bytes that starts at or before the current piece.
    size_t r = 0;
    uint64_t run_start = 0, run_end = 0;  // current merged run of present bytes
    for (uint64_t p = 0; p < size; p += piece_size) {
      const uint64_t end = std::min(size, p + piece_size);
      // Advance to the run that could contain p.
      while (run_end <= p && r < have.size()) {
        run_start = have[r].offset;
        run_end = have[r].offset + have[r].size;
        ++r;
        while (r < have.size() && have[r].offset <= run_end) {
          run_end = std::max(run_end, have[r].offset + have[r].size);
          ++r;
        }
      }
      bool complete = run_start <= p && run_end >= end;
      if (!complete) need += end - p;
    }
  }
  return need;
}

}  // namespace modelswarm
