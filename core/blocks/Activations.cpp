// Activations: element-wise non-linearities, two of them with learned slopes (PReLU, and DIN's
// data-adaptive Dice).
#include "blocks/BlockHalves.h"

namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

namespace {

BlockDefinition activation(const char* type, const char* name, const char* summary, const char* formula,
                           bool perChannel)
{
    BlockDefinition d;
    d.spec = unarySpec(type, name, "Activations", summary, formula);
    d.shape = sameShapeWithWeights([perChannel](const nlohmann::json&) { return perChannel ? 1 : 0; });
    return d;
}

} // namespace

void defineActivationsBlocks(BlockRegistry& r)
{
    r.add(activation("relu", "ReLU", "Rectified linear unit.", "y = max(0, x)", false));
    r.add(activation("sigmoid", "Sigmoid", "Logistic function.", "y = 1 / (1 + e^{−x})", false));
    r.add(activation("tanh", "Tanh", "Hyperbolic tangent.", "y = tanh(x)", false));
    r.add(activation("prelu", "PReLU", "ReLU with a learned slope for negatives, per channel.",
                     "y = max(0, x) + a · min(0, x)", true));
    r.add(activation("dice", "Dice", "Data-adaptive activation of DIN: a soft switch around the batch mean (Zhou et al. 2018).",
                     "p = σ((x − E[x]) / √(Var[x] + ε)),  y = p · x + (1 − p) · a · x", true));
}

#else // the LibTorch half

namespace {

class ActivationKernel : public RowwiseKernel {
    torch::nn::AnyModule makeModule(const GraphStep& s, int64_t width) const override
    {
        return activationModule(s.type, width);
    }
};

} // namespace

void addActivationsKernels(KernelRegistry& r)
{
    for (const char* type : {"relu", "sigmoid", "tanh", "prelu", "dice"})
        r.add(type, std::make_unique<ActivationKernel>());
}

#endif

} // namespace reclab
