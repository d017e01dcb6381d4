#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include "kernels/bench_timer.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/simd_avx512.hpp"
#include "kernels/kernel_bench.hpp"
#include "modelswarm/thread_pool.hpp"

namespace modelswarm {

namespace {
// Reads [p, p+n) with independent accumulators; the result is kept so the reads stay.
[[MS_TARGET_AVX512]] uint64_t read_avx512(const uint8_t* p, size_t n) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 256 <= n; i += 256) {
    a0 = _mm512_xor_si512(a0, _mm512_load_si512(p + i));
    a1 = _mm512_xor_si512(a1, _mm512_load_si512(p + i + 64));
    a2 = _mm512_xor_si512(a2, _mm512_load_si512(p + i + 128));
    a3 = _mm512_xor_si512(a3, _mm512_load_si512(p + i + 192));
  }
  return uint64_t(_mm512_reduce_or_epi64(_mm512_or_si512(_mm512_or_si512(a0, a1), _mm512_or_si512(a2, a3))));
}

[[MS_TARGET_AVX2]] uint64_t read_avx2(const uint8_t* p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 128 <= n; i += 128) {
    a0 = _mm256_xor_si256(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_xor_si256(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    a2 = _mm256_xor_si256(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
    a3 = _mm256_xor_si256(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
  }
  const __m256i a = _mm256_or_si256(_mm256_or_si256(a0, a1), _mm256_or_si256(a2, a3));
  return uint64_t(_mm256_extract_epi64(a, 0) | _mm256_extract_epi64(a, 3));
}

uint64_t read_scalar(const uint8_t* p, size_t n) {
  uint64_t a0 = 0, a1 = 0;
  for (size_t i = 0; i + 16 <= n; i += 16) {
    uint64_t v0, v1;
    std::memcpy(&v0, p + i, 8);
    std::memcpy(&v1, p + i + 8, 8);
    a0 ^= v0;
    a1 ^= v1;
  }
  return a0 | a1;
}
}  // namespace

size_t last_level_cache_bytes() {
  size_t best = 0;
  for (int i = 0; i < 8; ++i) {
    std::ifstream f("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/size");
    std::string s;
    if (!(f >> s) || s.empty()) continue;
    size_t v = std::strtoull(s.c_str(), nullptr, 10);
    if (s.back() == 'K') v <<= 10;
    if (s.back() == 'M') v <<= 20;
    best = std::max(best, v);
  }
  return best ? best : size_t(32) << 20;
}

size_t bench_stream_bytes() { return std::max(size_t(256) << 20, 8 * last_level_cache_bytes()); }

Result<Rate> measure_memory_bandwidth(ThreadPool& pool, size_t bytes, double seconds) {
  if (bytes == 0) bytes = bench_stream_bytes();
  bytes = (bytes + 4095) & ~size_t(4095);
  std::unique_ptr<uint8_t, decltype(&std::free)> buf(
      static_cast<uint8_t*>(std::aligned_alloc(4096, bytes)), &std::free);
  if (!buf) return Error::io("memory bandwidth: cannot allocate " + std::to_string(bytes >> 20) + " MiB");
  // Touch every page (in parallel, as the reads will be) so no page fault is timed.
  pool.parallel_for(bytes, 1 << 20, [&](size_t b, size_t e) { std::memset(buf.get() + b, 1, e - b); });
  const auto& cpu = kernels::cpu_features();
  std::atomic<uint64_t> sink{0};
  kernels::BestPass timer(pool.size());
  while (!timer.done(seconds)) {
    timer.pass([&] {
      pool.parallel_for(bytes, 1 << 20, [&](size_t b, size_t e) {
        const uint8_t* p = buf.get() + b;
        const uint64_t v = cpu.avx512 ? read_avx512(p, e - b)
                           : cpu.avx2 ? read_avx2(p, e - b)
                                      : read_scalar(p, e - b);
        sink.fetch_xor(v, std::memory_order_relaxed);
      });
    });
  }
  (void)sink.load();
  return timer.rate(double(bytes));
}

}  // namespace modelswarm
