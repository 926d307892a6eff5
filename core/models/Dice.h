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

private:
    bool batchStatistics(const torch::Tensor& x) const;
    torch::Tensor alpha_, runningMean_, runningVar_;
};
TORCH_MODULE(Dice);

} // namespace reclab
