// Layers: a linear layer, an MLP tower, dropout and batch normalisation.
#include "blocks/BlockHalves.h"

#ifdef RECLAB_BLOCK_KERNELS
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/dropout.h>
#endif

namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

void defineLayersBlocks(BlockRegistry& r)
{
    BlockDefinition linear;
    linear.spec = unarySpec("linear", "Linear", "Layers", "A fully connected layer.", "y = W x + b,  W ∈ ℝ^{out×in}",
                            {intParam("units", "Units", 1, 1, 65536, "out, the output width"),
                             boolParam("bias", "Bias", true, "Add a learned bias b")});
    linear.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        if (!c.vectors(0))
            return std::nullopt;
        const int64_t units = c.params["units"].get<int64_t>();
        c.parameters = c.in[0].width * units + (c.params["bias"].get<bool>() ? units : 0);
        ValueType out = c.in[0];
        out.width = units;
        return out;
    };
    r.add(std::move(linear));

    BlockDefinition mlp;
    mlp.spec = unarySpec("mlp", "MLP", "Layers", "A tower of fully connected layers, each followed by the activation.",
                         "h₀ = x,  h_k = act(W_k h_{k−1} + b_k),  y = h_K",
                         {layersParam("layers", "Layer sizes", {64, 32}, "The width of each layer, in order"),
                          choiceParam("activation", "Activation", "relu", activationNames(), "After every layer"),
                          realParam("dropout", "Dropout", 0.0, 0, 0.99, "Dropout after every layer while training")});
    mlp.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        if (!c.vectors(0))
            return std::nullopt;
        int64_t width = c.in[0].width;
        for (const auto& size : c.params["layers"]) {
            const int64_t units = size.get<int64_t>();
            c.parameters += width * units + units + activationParameters(c.params["activation"], units);
            c.widest = std::max(c.widest, units);
            width = units;
        }
        ValueType out = c.in[0];
        out.width = width;
        return out;
    };
    r.add(std::move(mlp));

    BlockDefinition dropout;
    dropout.spec = unarySpec(
        "dropout", "Dropout", "Layers",
        "Zeroes entries at random while training (scaling the rest), or whole vectors: dropping an item's ID "
        "embedding teaches the rest of the item side to score without it, as it must for items no one has rated "
        "(DropoutNet, Volkovs et al. 2017).",
        "entries: y = x · m / (1 − p),  m ~ Bernoulli(1 − p) per entry;  vectors: y = x · m,  m ~ Bernoulli(1 − p) per "
        "vector, unscaled;  y = x in evaluation",
        {realParam("p", "Drop probability", 0.5, 0, 0.99, "p"),
         choiceParam("unit", "Unit", "entries", {"entries", "vectors"},
                     "entries: each number on its own; vectors: each row's whole vector at once")});
    dropout.shape = sameShape;
    r.add(std::move(dropout));

    BlockDefinition batchNorm;
    batchNorm.spec = unarySpec("batch_norm", "BatchNorm", "Layers", "Normalises each channel over the batch.",
                               "y = γ (x − E[x]) / √(Var[x] + ε) + β");
    batchNorm.shape = sameShapeWithWeights([](const nlohmann::json&) { return 2; });
    r.add(std::move(batchNorm));
}

#else // the LibTorch half

namespace {

class LinearKernel : public BlockKernel {
    struct State : StepState {
        torch::nn::Linear linear{nullptr};
    };

public:
    void compile(CompileContext& c, GraphStep& s) const override
    {
        auto state = std::make_unique<State>();
        const auto options = torch::nn::LinearOptions(s.inputTypes[0].width, s.params["units"].get<int64_t>())
                                 .bias(s.params["bias"].get<bool>());
        state->linear = c.model.register_module(s.id, torch::nn::Linear(options));
        s.state = std::move(state);
    }
    BatchValue forward(BatchPass&, GraphStep& s, const Inputs<BatchValue>& in) const override
    {
        BatchValue out;
        out.sequence = in[0]->sequence;
        out.rows = s.as<State>().linear->forward(in[0]->materialise());
        return out;
    }
    PairValue scoreAll(PairPass& p, GraphStep& s, const Inputs<PairValue>& in) const override
    {
        const auto& l = s.as<State>().linear;
        return p.linear(*in[0], l->weight, l->bias, std::to_string(s.index));
    }
    SharedValue scoreShared(SharedPass&, GraphStep& s, const Inputs<SharedValue>& in) const override
    {
        return {s.as<State>().linear->forward(in[0]->t), {}};
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        return p.assign(s, p.linear(in[0]->name, *s.as<State>().linear));
    }
};

class MlpKernel : public BlockKernel {
    struct State : StepState {
        torch::nn::Sequential tower{nullptr};
    };

public:
    void compile(CompileContext& c, GraphStep& s) const override
    {
        auto state = std::make_unique<State>();
        const auto& p = s.params;
        state->tower = c.model.register_module(
            s.id, tower(s.inputTypes[0].width, p["layers"], p["activation"], p["dropout"].get<double>()));
        s.state = std::move(state);
    }
    BatchValue forward(BatchPass&, GraphStep& s, const Inputs<BatchValue>& in) const override
    {
        BatchValue out;
        out.sequence = in[0]->sequence;
        out.rows = s.as<State>().tower->forward(in[0]->materialise());
        return out;
    }
    PairValue scoreAll(PairPass& p, GraphStep& s, const Inputs<PairValue>& in) const override
    {
        if (auto rows = p.pairTower(*in[0], *s.as<State>().tower, std::to_string(s.index)); rows.defined())
            return {Granularity::Pair, rows};
        // The first layer through linear() (it may meet a concatenation of user and item
        // parts), the rest on its result.
        PairValue x = *in[0];
        bool first = true;
        for (auto& layer : *s.as<State>().tower) {
            if (first) {
                auto* linear = layer.ptr()->as<torch::nn::Linear>();
                x = p.linear(x, linear->weight, linear->bias, std::to_string(s.index));
                first = false;
                continue;
            }
            if (!x.plain())
                x = {Granularity::Pair, p.pairs(x)};
            // Pair activations are this pass's own: ReLU in place saves a pass over them.
            if (x.g == Granularity::Pair && layer.ptr()->as<torch::nn::ReLU>())
                x.t.relu_();
            else
                x.t = layer.forward(x.t);
        }
        return x;
    }
    SharedValue scoreShared(SharedPass&, GraphStep& s, const Inputs<SharedValue>& in) const override
    {
        return {s.as<State>().tower->forward(in[0]->t), {}};
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        const std::string v = ScriptPass::var(s);
        p.line(v + " = " + in[0]->name);
        for (auto& child : s.as<State>().tower->children())
            p.line(v + " = " + p.layer(v, *child));
        return {v, in[0]->sequence};
    }
};

// Whole vectors dropped, unscaled, while training; a Dropout to everything else (the TorchScript
// export and evaluation pass it through).
class VectorDropoutImpl : public torch::nn::DropoutImpl {
public:
    using DropoutImpl::DropoutImpl;
    torch::Tensor forward(const torch::Tensor& x)
    {
        if (!is_training() || options.p() == 0)
            return x;
        auto sizes = x.sizes().vec();
        sizes.back() = 1;
        return x * torch::empty(sizes, x.options()).bernoulli_(1.0 - options.p());
    }
};

class DropoutKernel : public RowwiseKernel {
    torch::nn::AnyModule makeModule(const GraphStep& s, int64_t) const override
    {
        const double p = s.params["p"].get<double>();
        if (s.params["unit"].get<std::string>() == "vectors")
            return torch::nn::AnyModule(std::make_shared<VectorDropoutImpl>(torch::nn::DropoutOptions(p)));
        return torch::nn::AnyModule(torch::nn::Dropout(p));
    }
};

class BatchNormKernel : public RowwiseKernel {
    torch::nn::AnyModule makeModule(const GraphStep&, int64_t width) const override
    {
        return torch::nn::AnyModule(torch::nn::BatchNorm1d(width));
    }
};

} // namespace

void addLayersKernels(KernelRegistry& r)
{
    r.add("linear", std::make_unique<LinearKernel>());
    r.add("mlp", std::make_unique<MlpKernel>());
    r.add("dropout", std::make_unique<DropoutKernel>());
    r.add("batch_norm", std::make_unique<BatchNormKernel>());
}

#endif

} // namespace reclab
