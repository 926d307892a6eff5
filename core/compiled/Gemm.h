// Row-major single-precision matrix products for the fused CPU kernels (private to core/compiled).
#pragma once

#include <cstdint>

namespace reclab {

// C[m, n] = op(A)[m, k] · op(B)[k, n] + beta · C, all row-major, on the BLAS LibTorch's own
// CPU products use (the same rounding as theirs): the system's CBLAS when LibTorch's BLAS
// exports one (Debian's OpenBLAS, on the calling thread), otherwise through LibTorch. Safe to
// call from several threads at once.
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
          float beta, float* c, int64_t ldc);

// The same through oneDNN's sgemm where LibTorch links a oneDNN that exports it (Debian's
// does), else gemm(). oneDNN generates its kernels for the CPU at hand, AVX-512 included, while
// OpenBLAS 0.3.21 falls back to its Haswell kernel on CPUs it does not know: on this project's
// Zen 5 machine, for the shapes of DIN's unit ([256, 32..80] · [32..80, 32..80]), 140-200
// GFLOP/s on one thread against OpenBLAS's 92-100. Within a SerialIntraOp it stays on the
// calling thread.
void gemmOneDnn(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                int64_t ldb, float beta, float* c, int64_t ldc);

} // namespace reclab
