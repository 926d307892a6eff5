#include "compiled/Gemm.h"

#include <torch/types.h>

#include <dlfcn.h>

namespace reclab {

namespace {

using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
using DnnlSgemm = int (*)(char, char, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);

CblasSgemm systemSgemm()
{
    static const auto f = reinterpret_cast<CblasSgemm>(dlsym(RTLD_DEFAULT, "cblas_sgemm"));
    return f;
}

// oneDNN's sgemm is row-major, as these are (Gemm.h says why it is used).
DnnlSgemm dnnlSgemm()
{
    static const auto f = reinterpret_cast<DnnlSgemm>(dlsym(RTLD_DEFAULT, "dnnl_sgemm"));
    return f;
}

} // namespace

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
          float beta, float* c, int64_t ldc)
{
    if (m == 0 || n == 0)
        return;
    if (const CblasSgemm f = systemSgemm()) {
        constexpr int rowMajor = 101, noTrans = 111, trans = 112;
        f(rowMajor, ta ? trans : noTrans, tb ? trans : noTrans, static_cast<int>(m), static_cast<int>(n),
          static_cast<int>(k), 1.f, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
        return;
    }
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat);
    auto wrap = [&](const float* p, bool t, int64_t rows, int64_t cols, int64_t ld) {
        // op(X) is [rows, cols]; X itself is stored [cols, rows] when transposed
        auto x = t ? torch::from_blob(const_cast<float*>(p), {cols, rows}, {ld, 1}, f32).t()
                   : torch::from_blob(const_cast<float*>(p), {rows, cols}, {ld, 1}, f32);
        return x;
    };
    auto out = torch::from_blob(c, {m, n}, {ldc, 1}, f32);
    const auto x = wrap(a, ta, m, k, lda), y = wrap(b, tb, k, n, ldb);
    if (beta == 0.f)
        at::mm_out(out, x, y);
    else
        out.addmm_(x, y, beta, 1.f);
}

void gemmOneDnn(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                int64_t ldb, float beta, float* c, int64_t ldc)
{
    if (m == 0 || n == 0)
        return;
    if (const DnnlSgemm f = dnnlSgemm())
        if (f(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.f, a, lda, b, ldb, beta, c, ldc) == 0)
            return;
    gemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
}

} // namespace reclab
