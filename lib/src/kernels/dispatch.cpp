#include <atomic>
#include <string>

#include "kernels/cpu_features.hpp"
#include "kernels/kernel_table.hpp"

namespace modelswarm {

using namespace kernels;

namespace kernels {
namespace {
std::atomic<const KernelTable*>& active() {
  static std::atomic<const KernelTable*> t{&table_for(best_kernel_isa())};
  return t;
}
}  // namespace

const KernelTable& table_for(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::avx512: return avx512_table();
    case KernelIsa::avx2: return avx2_table();
    case KernelIsa::scalar: break;
  }
  return kScalarTable;
}

const KernelTable& active_table() { return *active().load(std::memory_order_relaxed); }
}  // namespace kernels

const char* kernel_isa_name(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::scalar: return "scalar";
    case KernelIsa::avx2: return "avx2";
    case KernelIsa::avx512: return "avx512";
  }
  return "scalar";
}

bool kernel_isa_supported(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::scalar: return true;
    case KernelIsa::avx2: return cpu_features().avx2;
    case KernelIsa::avx512: return cpu_features().avx512;
  }
  return false;
}

KernelIsa best_kernel_isa() {
  if (kernel_isa_supported(KernelIsa::avx512)) return KernelIsa::avx512;
  if (kernel_isa_supported(KernelIsa::avx2)) return KernelIsa::avx2;
  return KernelIsa::scalar;
}

KernelIsa kernel_isa() { return active_table().isa; }

Status set_kernel_isa(std::string_view name) {
  KernelIsa isa;
  if (name == "auto") {
    isa = best_kernel_isa();
  } else if (name == "scalar") {
    isa = KernelIsa::scalar;
  } else if (name == "avx2") {
    isa = KernelIsa::avx2;
  } else if (name == "avx512") {
    isa = KernelIsa::avx512;
  } else {
    return Error::invalid_argument("kernel: unknown instruction set '" + std::string(name) +
                                   "' (expected auto, scalar, avx2 or avx512)");
  }
  if (!kernel_isa_supported(isa)) {
    return Error::unsupported("kernel: this CPU or OS cannot run the " +
                              std::string(kernel_isa_name(isa)) + " kernels");
  }
  active().store(&table_for(isa), std::memory_order_relaxed);
  return Status::success();
}

std::vector<std::string> supported_kernel_isas() {
  std::vector<std::string> out;
  for (KernelIsa isa : {KernelIsa::scalar, KernelIsa::avx2, KernelIsa::avx512})
    if (kernel_isa_supported(isa)) out.emplace_back(kernel_isa_name(isa));
  return out;
}

}  // namespace modelswarm
