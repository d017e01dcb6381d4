// What this CPU and OS can run, read once with CPUID and XGETBV.
#pragma once

namespace modelswarm::kernels {

struct CpuFeatures {
  bool avx2 = false;     // AVX2 + FMA + F16C, with the OS saving YMM state
  bool avx512 = false;   // AVX-512 F/BW/VL/DQ + VNNI, with the OS saving ZMM and opmask state
};

const CpuFeatures& cpu_features();

}  // namespace modelswarm::kernels
