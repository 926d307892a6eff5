// LayerNorm (Ba et al. 2016): each row, or each behaviour of a sequence, normalised over its
// own features, then scaled and shifted per feature. Unlike BatchNorm it needs no batch
// statistics, so training and evaluation compute the same thing.
#include "blocks/BlockHalves.h"

#ifdef RECLAB_BLOCK_KERNELS
#include <torch/nn/modules/normalization.h>
#include <sstream>
#endif

namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

void defineLayerNormBlocks(BlockRegistry& r)
{
    BlockDefinition d;
    d.spec = unarySpec("layer_norm", "LayerNorm", "Layers",
                       "Normalises each row (each behaviour of a sequence) over its own features, then scales and "
                       "shifts each feature.",
                       "y = γ ⊙ (x − μ) / √(σ² + ε) + β,  μ, σ²: mean and variance of the row's d features",
                       {realParam("eps", "Epsilon", 1e-5, 1e-12, 1, "ε, added to the variance"),
                        boolParam("affine", "Scale and shift", true, "Learn γ and β (else γ = 1, β = 0)")});
    d.shape = sameShapeWithWeights([](const nlohmann::json& p) { return p["affine"].get<bool>() ? 2 : 0; });
    r.add(std::move(d));
}

#else // the LibTorch half

namespace {

class LayerNormKernel : public RowwiseKernel {
    torch::nn::AnyModule makeModule(const GraphStep& s, int64_t width) const override
    {
        return torch::nn::AnyModule(torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})
                                                             .eps(s.params["eps"].get<double>())
                                                             .elementwise_affine(s.params["affine"].get<bool>())));
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        auto& norm = *s.as<State>().module.get<torch::nn::LayerNorm>();
        std::ostringstream eps;
        eps.precision(17);
        eps << norm.options.eps();
        const bool affine = norm.options.elementwise_affine();
        return p.assign(s, "torch.layer_norm(" + in[0]->name + ", [" + std::to_string(norm.options.normalized_shape()[0]) +
                               "], " + (affine ? p.self(norm.weight) : "None") + ", " +
                               (affine ? p.self(norm.bias) : "None") + ", " + eps.str() + ", True)");
    }
};

} // namespace

void addLayerNormKernels(KernelRegistry& r) { r.add("layer_norm", std::make_unique<LayerNormKernel>()); }

#endif

} // namespace reclab
