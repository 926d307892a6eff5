#include "models/Dice.h"

#include "util/VectorClones.h"

#include <torch/autograd.h>

namespace reclab {

DiceImpl::DiceImpl(int64_t channels)
{
    alpha_ = register_parameter("alpha", torch::zeros({channels}));
    runningMean_ = register_buffer("running_mean", torch::zeros({channels}));
    runningVar_ = register_buffer("running_var", torch::ones({channels}));
}

RECLAB_SIMD_CLONES void diceGradient(const float* __restrict x, const float* __restrict p, const float* __restrict g,
                                     const float* __restrict a, const float* __restrict mu, const float* __restrict r,
                                     int64_t n, int64_t c, float* __restrict dx, float* __restrict da,
                                     float* __restrict sumGn, float* __restrict sumGnN)
{
    for (int64_t k = 0; k < n * c; k += c)
        for (int64_t j = 0; j < c; ++j) {
            const float pk = p[k + j], xk = x[k + j], gk = g[k + j];
            const float gn = gk * xk * (1.f - a[j]) * pk * (1.f - pk);
            dx[k + j] = gk * (a[j] + (1.f - a[j]) * pk) + r[j] * gn;
            da[j] += gk * xk * (1.f - pk);
            sumGn[j] += gn;
            sumGnN[j] += gn * (xk - mu[j]) * r[j];
        }
}

namespace {

// The loops of Dice over a row-major [n, c] block, vectorised across the channels; on x86-64
// GCC also builds AVX-512 and AVX2/FMA copies, picked at load time (util/VectorClones.h).

// mean and (biased) variance of each channel; m and v start at zero.
RECLAB_SIMD_CLONES void diceStatistics(const float* __restrict x, int64_t n, int64_t c, float* __restrict m,
                                       float* __restrict v)
{
    for (int64_t k = 0; k < n * c; k += c)
        for (int64_t j = 0; j < c; ++j)
            m[j] += x[k + j];
    for (int64_t j = 0; j < c; ++j)
        m[j] /= static_cast<float>(n);
    for (int64_t k = 0; k < n * c; k += c)
        for (int64_t j = 0; j < c; ++j) {
            const float d = x[k + j] - m[j];
            v[j] += d * d;
        }
    for (int64_t j = 0; j < c; ++j)
        v[j] /= static_cast<float>(n);
}

RECLAB_SIMD_CLONES void diceOutput(const float* __restrict x, const float* __restrict p, const float* __restrict a,
                                   int64_t n, int64_t c, float* __restrict out)
{
    for (int64_t k = 0; k < n * c; k += c)
        for (int64_t j = 0; j < c; ++j)
            out[k + j] = x[k + j] * (a[j] + (1.f - a[j]) * p[k + j]);
}

// The gradient through the batch mean and variance: dx -= r mean(gn) + n r mean(gn n).
RECLAB_SIMD_CLONES void diceStatisticsGradient(const float* __restrict x, const float* __restrict mu,
                                               const float* __restrict r, int64_t n, int64_t c,
                                               float* __restrict sumGn, float* __restrict sumGnN,
                                               float* __restrict dx)
{
    for (int64_t j = 0; j < c; ++j) {
        sumGn[j] *= r[j] / static_cast<float>(n);
        sumGnN[j] *= r[j] * r[j] / static_cast<float>(n);
    }
    for (int64_t k = 0; k < n * c; k += c)
        for (int64_t j = 0; j < c; ++j)
            dx[k + j] -= sumGn[j] + (x[k + j] - mu[j]) * sumGnN[j];
}

// Dice as one autograd node with fused loops on the CPU: LibTorch ops made a dozen [n, C]
// temporaries per call, and the activation unit calls it on every (behaviour, candidate) pair.
//   forward:  p = sigmoid((x - mu) r), f = x (a + (1 - a) p), r = 1 / sqrt(var + eps)
//   backward: with gn = g x (1 - a) p (1 - p) and n = (x - mu) r,
//             dx = g (a + (1 - a) p) + r (gn - mean(gn) - n mean(gn n))   (batch statistics)
//             dx = g (a + (1 - a) p) + r gn                                (running statistics)
//             da = sum over rows of g x (1 - p)
struct DiceFunction : public torch::autograd::Function<DiceFunction> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& xIn,
                                 const torch::Tensor& alpha, torch::Tensor runningMean, torch::Tensor runningVar,
                                 bool batchStats, double momentum, double eps)
    {
        const auto x = xIn.contiguous();
        const int64_t n = x.size(0), c = x.size(1);
        torch::Tensor mean, var;
        if (batchStats) {
            mean = torch::zeros({c}, x.options());
            var = torch::zeros({c}, x.options());
            diceStatistics(x.data_ptr<float>(), n, c, mean.data_ptr<float>(), var.data_ptr<float>());
            runningMean.mul_(1 - momentum).add_(mean, momentum);
            runningVar.mul_(1 - momentum).add_(var * (static_cast<double>(n) / static_cast<double>(n - 1)), momentum);
        } else {
            mean = runningMean.clone();
            var = runningVar.clone();
        }
        const auto invStd = (var + eps).rsqrt();
        const auto p = torch::sigmoid(torch::addcmul(-mean * invStd, x, invStd)); // LibTorch's vectorised sigmoid
        const auto a = alpha.contiguous();
        auto out = torch::empty_like(x);
        diceOutput(x.data_ptr<float>(), p.data_ptr<float>(), a.data_ptr<float>(), n, c, out.data_ptr<float>());
        ctx->save_for_backward({x, p, a, mean, invStd});
        ctx->saved_data["batch_stats"] = batchStats;
        return out;
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::tensor_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const auto &x = saved[0], &p = saved[1], &a = saved[2], &mean = saved[3], &invStd = saved[4];
        const auto g = grads[0].contiguous();
        const int64_t n = x.size(0), c = x.size(1);
        auto dx = torch::empty_like(x);
        auto da = torch::zeros({c}, x.options());
        auto sums = torch::zeros({2, c}, x.options());
        float* sumGn = sums.data_ptr<float>();
        diceGradient(x.data_ptr<float>(), p.data_ptr<float>(), g.data_ptr<float>(), a.data_ptr<float>(),
                     mean.data_ptr<float>(), invStd.data_ptr<float>(), n, c, dx.data_ptr<float>(),
                     da.data_ptr<float>(), sumGn, sumGn + c);
        if (ctx->saved_data["batch_stats"].toBool())
            diceStatisticsGradient(x.data_ptr<float>(), mean.data_ptr<float>(), invStd.data_ptr<float>(), n, c, sumGn,
                                   sumGn + c, dx.data_ptr<float>());
        return {dx, da, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

} // namespace

bool DiceImpl::batchStatistics(const torch::Tensor& x) const
{
    // Batch statistics need two rows or more; a single row uses the running ones.
    return is_training() && x.size(0) > 1;
}

torch::Tensor DiceImpl::forward(const torch::Tensor& x)
{
    if (x.device().is_cpu() && x.scalar_type() == torch::kFloat)
        return DiceFunction::apply(x, alpha_, runningMean_, runningVar_, batchStatistics(x), momentum, eps);
    return reference(x);
}

torch::Tensor DiceImpl::reference(const torch::Tensor& x)
{
    const bool batchStats = batchStatistics(x);
    const auto normalised = torch::batch_norm(x, {}, {}, runningMean_, runningVar_, batchStats, momentum, eps, false);
    const auto p = torch::sigmoid(normalised);
    return x * (alpha_ + p * (1 - alpha_));
}

} // namespace reclab
