// Prints the kernel microbenchmarks (memory bandwidth, peak int8 rate, matvec and matmul) for
// each requested instruction set; used by scripts/bench_kernels.sh.
//   bench_kernels [--isa NAME]... [--type Q4_0] [--rows N] [--cols N] [--tokens M]
//                 [--seconds S] [--threads T] [--json] | --list-isas
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/kernel_bench.hpp"
#include "modelswarm/thread_pool.hpp"

using namespace modelswarm;

namespace {
std::string argv_type(GgmlType t) { return std::string(ggml_type_traits(uint32_t(t))->name); }
}  // namespace

int main(int argc, char** argv) {
  KernelBenchOptions o;
  std::vector<std::string> isas;
  unsigned threads = 0;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_kernels: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--list-isas") {
      for (const auto& n : supported_kernel_isas()) std::printf("%s\n", n.c_str());
      return 0;
    }
    if (a == "--isa") isas.push_back(next());
    else if (a == "--type") {
      auto t = ggml_type_from_name(next());
      if (!t) { std::fprintf(stderr, "bench_kernels: unknown type\n"); return 2; }
      o.type = *t;
    } else if (a == "--rows") o.rows = std::stoul(next());
    else if (a == "--cols") o.cols = std::stoul(next());
    else if (a == "--tokens") o.prefill_tokens = std::stoul(next());
    else if (a == "--seconds") o.seconds = std::stod(next());
    else if (a == "--threads") threads = unsigned(std::stoul(next()));
    else if (a == "--json") json = true;
    else { std::fprintf(stderr, "bench_kernels: unknown argument %s\n", a.c_str()); return 2; }
  }
  if (isas.empty()) isas.push_back("auto");
  ThreadPool pool(threads);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& name : isas) {
    if (auto s = set_kernel_isa(name); !s.ok()) {
      std::fprintf(stderr, "bench_kernels: %s\n", s.error().message.c_str());
      return 1;
    }
    auto r = run_kernel_bench(o, pool);
    if (!r.ok()) {
      std::fprintf(stderr, "bench_kernels: %s\n", r.error().message.c_str());
      return 1;
    }
    auto rate = [](const Rate& x) { return nlohmann::json{{"wall", x.wall}, {"cpu", x.cpu}}; };
    if (json) {
      out.push_back({{"isa", r->isa}, {"threads", r->threads}, {"type", argv_type(o.type)},
                     {"rows", o.rows}, {"cols", o.cols}, {"tokens", o.prefill_tokens},
                     {"matrix_bytes", r->matrix_bytes},
                     {"memory_bytes_per_s", rate(r->memory_bytes)},
                     {"peak_int8_ops_per_s", rate(r->peak_int8_ops)},
                     {"matvec_bytes_per_s", rate(r->matvec_bytes)},
                     {"matmul_int8_ops_per_s", rate(r->matmul_int8_ops)},
                     {"matvec_bandwidth_share", rate(r->matvec_bandwidth_share())},
                     {"matmul_peak_share", rate(r->matmul_peak_share())}});
      continue;
    }
    const Rate dec = r->matvec_bandwidth_share(), pre = r->matmul_peak_share();
    std::printf("kernels %s, %u threads, %s %zux%zu (%.1f MB), prefill %zu tokens\n",
                r->isa.c_str(), r->threads, argv_type(o.type).c_str(), o.rows, o.cols,
                double(r->matrix_bytes) / 1e6, o.prefill_tokens);
    std::printf("                          %-28s %s\n", "wall clock", "CPU time per thread");
    std::printf("  memory read bandwidth   %8.2f GB/s %17s %8.2f GB/s\n", r->memory_bytes.wall / 1e9, "",
                r->memory_bytes.cpu / 1e9);
    std::printf("  matvec (decode)         %8.2f GB/s = %5.1f%% of bw   %8.2f GB/s = %5.1f%% of bw\n",
                r->matvec_bytes.wall / 1e9, 100 * dec.wall, r->matvec_bytes.cpu / 1e9, 100 * dec.cpu);
    std::printf("  peak int8 rate          %8.1f Gop/s %16s %8.1f Gop/s\n", r->peak_int8_ops.wall / 1e9, "",
                r->peak_int8_ops.cpu / 1e9);
    std::printf("  matmul (prefill)        %8.1f Gop/s = %5.1f%% of peak %6.1f Gop/s = %5.1f%% of peak\n",
                r->matmul_int8_ops.wall / 1e9, 100 * pre.wall, r->matmul_int8_ops.cpu / 1e9, 100 * pre.cpu);
  }
  if (json) std::printf("%s\n", out.dump().c_str());
  return 0;
}
