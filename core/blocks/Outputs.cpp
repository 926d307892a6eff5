// Outputs: the one number per row a graph is trained on, a click logit (logistic loss) or a
// rating (squared error). They decide the graph's task.
#include "blocks/BlockHalves.h"


namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

namespace {

BlockDefinition output(BlockSpec spec, OutputLoss loss)
{
    BlockDefinition d;
    d.spec = std::move(spec);
    d.traits.loss = loss;
    const std::string port = d.spec.inputs.front().name;
    d.shape = [port](ShapeContext& c) -> std::optional<ValueType> {
        if (!c.vectors(0))
            return std::nullopt;
        if (c.in[0].sequence || c.in[0].width != 1)
            return c.fail(port, "expects one number per row (B×1), got " + c.in[0].text() + " (add a Linear with 1 unit)");
        return std::nullopt; // outputs produce nothing
    };
    return d;
}

} // namespace

void defineOutputsBlocks(BlockRegistry& r)
{
    r.add(output({"click_output", "Click output", "Outputs",
                  "A click logit per row, trained with binary cross-entropy (implicit feedback with sampled "
                  "negatives, or click-through labels).",
                  "p = σ(z),  loss = −[y log p + (1 − y) log(1 − p)]",
                  {floatIn("logit", "z")}, {}, {}},
                 OutputLoss::Logistic));
    r.add(output({"rating_output", "Rating output", "Outputs", "A predicted rating per row, trained with squared error.",
                  "r̂ = z (+ μ),  loss = (r − r̂)²",
                  {floatIn("value", "z")}, {},
                  {boolParam("add_global_mean", "Add global mean", true, "Add μ, the mean training rating")}},
                 OutputLoss::Squared));
}

#else // the LibTorch half

namespace {

class OutputKernel : public BlockKernel {
    struct State : StepState {
        bool addGlobalMean = false;
    };

public:
    void compile(CompileContext&, GraphStep& s) const override
    {
        auto state = std::make_unique<State>();
        state->addGlobalMean = s.params.value("add_global_mean", false);
        s.state = std::move(state);
    }
    BatchValue forward(BatchPass& p, GraphStep& s, const Inputs<BatchValue>& in) const override
    {
        p.result = withMean(p.data, s, in[0]->materialise().squeeze(1));
        return {};
    }
    PairValue scoreAll(PairPass& p, GraphStep& s, const Inputs<PairValue>& in) const override
    {
        p.scores = withMean(p.data, s, p.pairs(*in[0]).view({p.users(), p.items()}));
        return {};
    }
    HistoryFlags planHistory(HistoryPlan& p, const GraphStep&, const Inputs<HistoryFlags>& in) const override
    {
        p.ok = p.ok && !in[0]->sequence;
        return {};
    }
    SharedValue scoreShared(SharedPass& p, GraphStep& s, const Inputs<SharedValue>& in) const override
    {
        p.result = withMean(p.data, s, in[0]->t.squeeze(1));
        return {};
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        p.line("return " + in[0]->name + ".squeeze(1)" + (s.as<State>().addGlobalMean ? " + self.global_mean" : ""));
        return {};
    }

private:
    static torch::Tensor withMean(const GraphData& d, const GraphStep& s, torch::Tensor x)
    {
        return s.as<State>().addGlobalMean ? x + d.globalMean : x;
    }
};

} // namespace

void addOutputsKernels(KernelRegistry& r)
{
    r.add("click_output", std::make_unique<OutputKernel>());
    r.add("rating_output", std::make_unique<OutputKernel>());
}

#endif

} // namespace reclab
