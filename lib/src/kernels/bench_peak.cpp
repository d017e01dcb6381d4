// Peak int8 dot-product rate: independent accumulators, so the loop is bound by the
// instruction's throughput and not by its latency.

#include "kernels/bench_timer.hpp"
#include "kernels/simd_avx512.hpp"
#include "kernels/kernel_bench.hpp"
#include "modelswarm/thread_pool.hpp"

namespace modelswarm {

namespace {
// About 10-20 ms per pass with SIMD: the process CPU time of threads running on other cores is
// only brought up to date at scheduler ticks (a few ms), so much shorter passes under-count the
// workers' CPU time; and the passes are then as long as those of the kernels they are set
// against, which see the same sharing of the cores.
constexpr size_t kIterations = 1 << 21;

// 12 chains of vpdpbusd: 64 multiply-adds each per instruction.
[[MS_TARGET_AVX512]] uint64_t vnni_loop(size_t iters, int seed) {
  const __m512i u = _mm512_set1_epi8(int8_t(seed | 1)), s = _mm512_set1_epi8(int8_t(seed + 3));
  __m512i a[12];
  for (auto& v : a) v = _mm512_setzero_si512();
  for (size_t i = 0; i < iters; ++i) {
    for (auto& v : a) v = _mm512_dpbusd_epi32(v, u, s);
    __asm__ volatile("" : "+v"(a[0]), "+v"(a[1]), "+v"(a[2]), "+v"(a[3]), "+v"(a[4]), "+v"(a[5]));
  }
  __m512i t = a[0];
  for (int i = 1; i < 12; ++i) t = _mm512_add_epi32(t, a[i]);
  // The sums wrap over this many iterations: read the lanes as unsigned (the reduce intrinsic
  // adds them as int, which overflows).
  uint32_t lanes[16];
  _mm512_storeu_si512(lanes, t);
  uint32_t sum = 0;
  for (uint32_t v : lanes) sum += v;
  return sum;
}
constexpr double kVnniOpsPerIter = 12 * 64 * 2;

// 8 chains of vpmaddubsw + vpmaddwd + vpaddd: 32 multiply-adds per vpmaddubsw.
[[MS_TARGET_AVX2]] uint64_t avx2_loop(size_t iters, int seed) {
  const __m256i u = _mm256_set1_epi8(int8_t(seed | 1)), s = _mm256_set1_epi8(int8_t(seed + 3));
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i a[8];
  for (auto& v : a) v = _mm256_setzero_si256();
  for (size_t i = 0; i < iters; ++i) {
    for (auto& v : a) v = _mm256_add_epi32(v, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), ones));
    __asm__ volatile("" : "+x"(a[0]), "+x"(a[1]), "+x"(a[2]), "+x"(a[3]));
  }
  __m256i t = a[0];
  for (int i = 1; i < 8; ++i) t = _mm256_add_epi32(t, a[i]);
  return uint64_t(_mm256_extract_epi32(t, 0));
}
constexpr double kAvx2OpsPerIter = 8 * 32 * 2;

uint64_t scalar_loop(size_t iters, int seed) {
  int uu = int8_t(seed | 1), ss = int8_t(seed + 3);
  uint32_t a[8] = {};  // unsigned: the sums wrap over this many iterations
  for (size_t i = 0; i < iters; ++i) {
    for (auto& v : a) v += uint32_t(uu * ss);
    __asm__ volatile("" : "+r"(uu), "+r"(ss));  // no hoisting the product out of the loop
  }
  uint64_t t = 0;
  for (uint32_t v : a) t += v;
  return t;
}
}  // namespace

Result<Rate> measure_peak_int8_ops(ThreadPool& pool, KernelIsa isa, double seconds) {
  if (!kernel_isa_supported(isa))
    return Error::unsupported(std::string("peak int8 rate: cannot run ") + kernel_isa_name(isa));
  const double per_iter = isa == KernelIsa::avx512 ? kVnniOpsPerIter
                          : isa == KernelIsa::avx2 ? kAvx2OpsPerIter
                                                   : 8 * 2;
  const unsigned threads = pool.size();
  std::atomic<uint64_t> sink{0};
  kernels::BestPass timer(threads);
  while (!timer.done(seconds)) {
    timer.pass([&] {
      pool.parallel_for(threads, 1, [&](size_t b, size_t e) {
        for (size_t t = b; t < e; ++t) {
          const uint64_t v = isa == KernelIsa::avx512 ? vnni_loop(kIterations, int(t))
                             : isa == KernelIsa::avx2 ? avx2_loop(kIterations, int(t))
                                                      : scalar_loop(kIterations, int(t));
          sink.fetch_add(v, std::memory_order_relaxed);
        }
      });
    });
  }
  (void)sink.load();
  return timer.rate(per_iter * double(kIterations) * threads);
}

}  // namespace modelswarm
