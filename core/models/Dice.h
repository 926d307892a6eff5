// Dice, the data-adaptive activation of DIN (Zhou et al. 2018), as a LibTorch module: fused
// CPU loops in one autograd node, LibTorch's own ops elsewhere.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace reclab {

// Dice (Zhou et al. 2018, eq. 9): p(s) = sigmoid((s - E[s]) / sqrt(Var[s] + eps)), output
// p(s) s + (1 - p(s)) alpha s, with batch statistics in training and running ones in
// evaluation, and one alpha per channel.
class DiceImpl : public torch::nn::Module {
public:
    explicit DiceImpl(int64_t channels);
    torch::Tensor forward(const torch::Tensor& x); // [n, channels]
    // The same with LibTorch's batch_norm and element-wise ops (used off the CPU, and to check
    // the fused CPU version).
    torch::Tensor reference(const torch::Tensor& x);

    static constexpr double momentum = 0.1, eps = 1e-8; // of the running statistics; added to the variance
    const torch::Tensor& alpha() const { return alpha_; }
    const torch::Tensor& runningMean() const { return runningMean_; } // updated in place in training
    const torch::Tensor& runningVar() const { return runningVar_; }

private:
    bool batchStatistics(const torch::Tensor& x) const;
    torch::Tensor alpha_, runningMean_, runningVar_;
};
TORCH_MODULE(Dice);

// Dice's backward over a row-major [n, c] block from g = d/d output, with p the forward's
// sigmoid, a alpha, mu and r the mean and 1 / sqrt(var + eps) used: dx without the
// batch-statistics term, and per channel dalpha, sum(gn) and sum(gn · (x - mu) r) added into
// da, sumGn and sumGnN (gn = g x (1 - a) p (1 - p)), from which that term follows.
void diceGradient(const float* x, const float* p, const float* g, const float* a, const float* mu, const float* r,
                  int64_t n, int64_t c, float* dx, float* da, float* sumGn, float* sumGnN);

} // namespace reclab
