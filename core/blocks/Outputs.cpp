// Outputs: the one number per row a graph is trained on, a click logit (logistic loss) or a
// rating (squared error), or every item scored as the next one from a state (next-item
// prediction, tied to the item embedding table). They decide the graph's task.
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

    BlockDefinition next;
    next.spec = {"next_item_output", "Next-item output", "Outputs",
                 "Scores every item as the user's next one from the state h, against the item vectors of an "
                 "embedding table (tied weights). Trained with cross-entropy over all items at every position of "
                 "each history window (a state per position: B×L×d) or at the window's end (B×d), or, with "
                 "--loss bce, as a click logit of each candidate against sampled negatives. With several steps "
                 "(a decoder's K states side by side) the k-th state trains on the item k − 1 after the next; the "
                 "first alone ranks.",
                 "s_i = hᵀ e_i for every item i,  loss = −log softmax(s)_{next}  (ce);  K steps: h = (h_1 … h_K)",
                 {floatIn("state", "h")},
                 {},
                 {{"table", "Item table", ParamKind::Name, "items", 0, 0, {},
                   "The shared embedding table whose item vectors score h (an Embedding block of item ids uses it)"},
                  intParam("steps", "Steps", 1, 1, 20,
                           "States side by side in h (an Attention decoder's K): the first scores the next item, "
                           "the k-th trains on the item k − 1 after it")}};
    next.traits.loss = OutputLoss::NextItem;
    next.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        if (!c.vectors(0))
            return std::nullopt;
        const std::string table = c.params["table"].get<std::string>();
        const BlockAnalysis* owner = c.tableOwner(table);
        if (!owner || !owner->output)
            return c.fail("", "no Embedding block of item ids uses table '" + table + "' (name it in the embedding's Shared table)");
        if (owner->params.value("ids_vocab", "") != "item")
            return c.fail("", "table '" + table + "' holds " + owner->params.value("ids_vocab", std::string("other")) +
                                  " vectors, not items");
        const int64_t steps = c.params["steps"].get<int64_t>();
        if (steps > 1 && c.in[0].sequence)
            return c.fail("state", "holds a state per entry (" + c.in[0].text() + "); several steps need one row of "
                                   "states side by side (an Attention decoder's output)");
        if (owner->output->width * steps != c.in[0].width)
            return c.fail("state", "is " + c.in[0].text() + " but the item vectors of '" + table + "' have " +
                                       std::to_string(owner->output->width) + " entries" +
                                       (steps > 1 ? " (× " + std::to_string(steps) + " steps)" : std::string()) +
                                       " (add a Linear to that width)");
        return std::nullopt; // outputs produce nothing
    };
    r.add(std::move(next));
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

// Next-item scores h · e_i against a shared item table: every item for each position with a
// target while training on windows, the row's candidate otherwise (prediction, BCE training).
class NextItemKernel : public BlockKernel {
    struct State : StepState {
        std::shared_ptr<torch::nn::EmbeddingImpl> table;
        bool perStep = false; // the state arrives per behaviour (B×L×d), not per row
        int64_t steps = 1;    // states side by side per row: the next item's first
    };

public:
    void compile(CompileContext& c, GraphStep& s) const override
    {
        auto state = std::make_unique<State>();
        const std::string table = s.params["table"].get<std::string>();
        const auto shared = c.shared.find(table);
        if (shared == c.shared.end())
            throw GraphError(c.graphName, "nodes." + s.id, "no embedding block made table '" + table + "'");
        state->table = std::dynamic_pointer_cast<torch::nn::EmbeddingImpl>(shared->second);
        state->perStep = s.inputTypes[0].sequence;
        state->steps = s.params.value("steps", int64_t(1));
        s.state = std::move(state);
    }
    BatchValue forward(BatchPass& p, GraphStep& s, const Inputs<BatchValue>& in) const override
    {
        const State& st = s.as<State>();
        const auto& items = st.table->weight;
        const bool perStep = in[0]->sequence;
        auto h = in[0]->materialise();
        if (p.batch.targets.defined() && st.steps > 1) {
            // A row's K states against its next K items; steps past the user's training part have none (−1).
            const auto targets = p.batch.targets.reshape({-1});
            const auto kept = targets.ge(0).nonzero().squeeze(1);
            p.targets = targets.index_select(0, kept);
            h = h.reshape({-1, items.size(1)}).index_select(0, kept);
            if (!p.batch.negativeTargets.defined()) {
                p.result = torch::matmul(h, items.t());
                return {};
            }
            const auto negatives = p.batch.negativeTargets.reshape({-1, p.batch.negativeTargets.size(2)}).index_select(0, kept);
            p.result = (h.unsqueeze(1) * torch::embedding(items, torch::cat({p.targets.unsqueeze(1), negatives}, 1))).sum(2);
            return {};
        }
        if (st.steps > 1)
            h = h.narrow(1, 0, items.size(1)); // the next item's state
        if (p.batch.targets.defined()) {
            p.targets = targetsOf(p, p.batch.targets.unsqueeze(2), perStep).squeeze(1);
            if (!p.batch.negativeTargets.defined()) {
                p.result = torch::matmul(h, items.t()); // every item, for cross-entropy
                return {};
            }
            // The target and its sampled negatives only: [targets, 1 + k].
            const auto candidates = torch::cat({p.targets.unsqueeze(1), targetsOf(p, p.batch.negativeTargets, perStep)}, 1);
            p.result = (h.unsqueeze(1) * torch::embedding(items, candidates)).sum(2);
            return {};
        }
        p.result = (lastState(p, h, perStep) * torch::embedding(items, p.batch.items)).sum(1);
        return {};
    }
    HistoryFlags planHistory(HistoryPlan&, const GraphStep&, const Inputs<HistoryFlags>&) const override { return {}; }
    SharedValue scoreShared(SharedPass& p, GraphStep& s, const Inputs<SharedValue>& in) const override
    {
        const State& st = s.as<State>();
        auto h = in[0]->t;
        if (st.steps > 1)
            h = h.narrow(1, 0, st.table->weight.size(1));
        if (st.perStep) // the state after the latest behaviour
            h = p.length > 0 ? h.narrow(0, h.size(0) - 1, 1) : torch::zeros({1, h.size(1)}, h.options());
        p.result = (h * torch::embedding(st.table->weight, p.candidates)).sum(1);
        return {};
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        const State& st = s.as<State>();
        std::string h = in[0]->name;
        if (st.steps > 1)
            h += "[:, :" + std::to_string(st.table->weight.size(1)) + "]";
        if (in[0]->sequence) {
            const std::string v = ScriptPass::var(s);
            p.line(v + "_last = (history_length - 1).clamp(min=0)");
            p.line(v + "_h = " + h + ".view(batch, width, -1)[torch.arange(batch, device=history.device), " + v +
                   "_last] * (history_length > 0).float().unsqueeze(1)");
            h = v + "_h";
        }
        p.line("return (" + h + " * " + p.self(st.table->weight) + ".index_select(0, items)).sum(1)");
        return {};
    }

private:
    // The items [targets, k] of t [rows, L or 1, k] that meet the rows of the state: every
    // position's (a state per behaviour), the one after the history (t holds one per row), or
    // the one after the row's latest behaviour.
    static torch::Tensor targetsOf(const BatchPass& p, const torch::Tensor& t, bool perStep)
    {
        const int64_t k = t.size(2);
        if (perStep)
            return t.reshape({-1, k}).index_select(0, p.flat);
        if (t.size(1) == 1)
            return t.select(1, 0);
        return t.gather(1, (p.lengths - 1).clamp_min(0).view({-1, 1, 1}).expand({t.size(0), 1, k})).squeeze(1);
    }
    // Each row's state after its latest behaviour (zeros without behaviours): [rows, d].
    static torch::Tensor lastState(const BatchPass& p, const torch::Tensor& h, bool perStep)
    {
        if (!perStep)
            return h;
        if (h.size(0) == 0)
            return torch::zeros({p.rows, h.size(1)}, h.options());
        const auto last = (p.lengths.cumsum(0) - 1).clamp_min(0);
        return h.index_select(0, last) * (p.lengths > 0).unsqueeze(1).to(h.scalar_type());
    }
};

} // namespace

void addOutputsKernels(KernelRegistry& r)
{
    r.add("click_output", std::make_unique<OutputKernel>());
    r.add("rating_output", std::make_unique<OutputKernel>());
    r.add("next_item_output", std::make_unique<NextItemKernel>());
}

#endif

} // namespace reclab
