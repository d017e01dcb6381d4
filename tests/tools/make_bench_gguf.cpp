// Writes a large GGUF file of pseudo-random F16 tensors for benchmarks:
//   make_bench_gguf OUT.gguf TOTAL_MIB [TENSOR_MIB]
// The data is incompressible and the tensor table looks like a real checkpoint's (many tensors,
// aligned), so pack and verify do the work they would on a real model.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "modelswarm/gguf_writer.hpp"

int main(int argc, char** argv) {
  using namespace modelswarm;
  if (argc < 3) {
    std::fprintf(stderr, "usage: make_bench_gguf OUT.gguf TOTAL_MIB [TENSOR_MIB]\n");
    return 2;
  }
  uint64_t total = std::strtoull(argv[2], nullptr, 10) << 20;
  uint64_t per = (argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 32) << 20;
  if (total == 0 || per == 0) return 2;
  GgufWriter w;
  w.metadata().set("general.architecture", MetaValue::string("bench"));
  uint64_t cols = 4096, rows = per / (cols * 2);
  uint64_t n = (total + per - 1) / per;
  for (uint64_t i = 0; i < n; ++i) {
    Status st = w.add_tensor("blk." + std::to_string(i) + ".weight", GgmlType::F16, {cols, rows});
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.error().message.c_str());
      return 1;
    }
  }
  if (Status st = w.begin(argv[1]); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.error().message.c_str());
    return 1;
  }
  std::vector<uint64_t> buf(1 << 17);  // 1 MiB
  uint64_t x = 0x9E3779B97F4A7C15ull;
  uint64_t left = n * cols * rows * 2;
  while (left > 0) {
    for (auto& v : buf) {  // xorshift64*: fast, incompressible enough for hashing benchmarks
      x ^= x >> 12;
      x ^= x << 25;
      x ^= x >> 27;
      v = x * 2685821657736338717ull;
    }
    uint64_t k = std::min<uint64_t>(left, buf.size() * 8);
    Status st = w.write_data(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(buf.data()), k));
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.error().message.c_str());
      return 1;
    }
    left -= k;
  }
  if (Status st = w.finish(); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.error().message.c_str());
    return 1;
  }
  return 0;
}
