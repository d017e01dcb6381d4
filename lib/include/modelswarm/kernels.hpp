// Matrix kernels of the inference engine: y = W·x (decode) and Y = X·Wᵀ (prefill) for weights
// of every supported GGUF type, with runtime selection of the instruction set.
//
// Layout: W is a GGUF tensor of shape ne = [k, rows]; each row holds k contiguous elements
// (ne[0]) in W's type, rows `row_bytes` apart. Activations and results are float32.
// Numerics follow llama.cpp: for Q4_0 / Q8_0 weights the activations are quantized to Q8_0
// (per 32 elements), for Q4_K / Q6_K to Q8_K (per 256), and the products are exact integer sums
// scaled per block; F32 / F16 / BF16 weights are multiplied with float activations.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "modelswarm/error.hpp"
#include "modelswarm/ggml_type.hpp"

namespace modelswarm {

class ThreadPool;

// ---- instruction set selection --------------------------------------------------------------

// scalar: portable reference. avx2: AVX2 + FMA + F16C. avx512: AVX-512 F/BW/VL/DQ + VNNI.
enum class KernelIsa { scalar, avx2, avx512 };

const char* kernel_isa_name(KernelIsa isa);
// True when this CPU and OS (XGETBV: the OS saves the vector state) can run `isa`.
bool kernel_isa_supported(KernelIsa isa);
// The best supported ISA: what is selected unless set_kernel_isa() says otherwise.
KernelIsa best_kernel_isa();
// The ISA the kernels currently use.
KernelIsa kernel_isa();
// Selects kernels by name: "scalar", "avx2", "avx512", or "auto" (the best). Errors:
// invalid_argument for an unknown name, unsupported when this machine cannot run it.
// Not thread-safe against kernels running at the same time: call at start-up or between runs.
Status set_kernel_isa(std::string_view name);
// Names of the supported ISAs, best last ("scalar", "avx2", ...).
std::vector<std::string> supported_kernel_isas();

// ---- matrices -------------------------------------------------------------------------------

struct MatrixView {
  GgmlType type = GgmlType::F32;
  const void* data = nullptr;
  size_t rows = 0;       // ne[1]
  size_t cols = 0;       // ne[0], the dot-product length k
  size_t row_bytes = 0;  // distance between rows; ggml_row_bytes(type, cols) for dense tensors
};

// Weight types matvec / matmul accept, the type table's `engine` ones: F32, F16, BF16, Q8_0,
// Q4_0, Q4_K, Q6_K.
bool matmul_supported(GgmlType type);

// y[r] = Σ_i W[r][i]·x[i] for r < w.rows; x has w.cols floats, y has w.rows.
// Rows are split across `pool` (nullptr: the calling thread only).
// Errors: unsupported type; cols not a whole number of blocks; row_bytes too small.
Status matvec(const MatrixView& w, const float* x, float* y, ThreadPool* pool);

// matvec(w[i], x, y[i], pool) for every i, as one call: when the matrices share a type and a row
// length (a layer's q/k/v, gate/up), x is converted once and all their rows are split across
// the pool together. REQUIRES: w.size() == y.size(). Same errors as matvec.
Status matvec_multi(std::span<const MatrixView> w, const float* x, std::span<float* const> y,
                    ThreadPool* pool);

// Y[t][r] = Σ_i W[r][i]·X[t][i] for t < m tokens: row t of X starts at x + t*x_stride, row t
// of Y at y + t*y_stride (strides in floats). Activations are quantized once, and weights are
// processed in blocks of rows reused across tokens. Same errors as matvec.
Status matmul(const MatrixView& w, const float* x, size_t m, size_t x_stride, float* y,
              size_t y_stride, ThreadPool* pool);

// ---- vector helpers of the forward pass (dispatched like the matrix kernels) ------------------

float dot_f32(const float* a, const float* b, size_t n);
// y[i] += a·x[i]
void axpy_f32(float a, const float* x, float* y, size_t n);
// y[i] = x[i] / sqrt(mean(x²) + eps) · w[i]   (x and y may alias)
void rmsnorm_f32(const float* x, const float* w, float* y, size_t n, float eps);
// x[i] = exp(x[i] - max) / Σ exp(x[j] - max), in place
void softmax_f32(float* x, size_t n);
// out[i] = silu(gate[i]) · up[i]   (out may alias gate or up)
void silu_mul_f32(const float* gate, const float* up, float* out, size_t n);
// out[i] = gelu(gate[i]) · up[i], GELU's tanh approximation (gemma3)   (out may alias gate or up)
void gelu_mul_f32(const float* gate, const float* up, float* out, size_t n);

}  // namespace modelswarm
