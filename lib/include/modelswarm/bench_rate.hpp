// The figure every benchmark reports (`modelswarm bench`, the kernel benchmarks): a rate on two
// bases, so that a run on a busy machine still says what the code achieves.
#pragma once

namespace modelswarm {

// Every figure is measured twice over the same passes: by the wall clock, and by the process's
// CPU time divided by the threads (what the code achieves while it is running). On an idle
// machine the two agree; when other processes compete for the cores, only the CPU-time figure
// still describes the code. Each is the best pass.
struct Rate {
  double wall = 0;  // per second of wall-clock time
  double cpu = 0;   // per second of CPU time per thread
};

}  // namespace modelswarm
