// DIN's attention (Zhou et al. 2018): a small MLP scores each behaviour against the candidate
// and the behaviours are summed with those weights (no softmax). Its first layer over
// [h, t, h − t, h ⊙ t] is applied in parts, (W1 + W3) h + (W2 − W3) t + W4 (h ⊙ t) + b: the h
// part once per table row when the behaviours are a lookup, the t part once per row.
#include "blocks/BlockHalves.h"

#ifdef RECLAB_BLOCK_KERNELS
#include "compiled/ActivationUnit.h"
#include "models/Dice.h"
#include "util/Runtime.h"

#include <torch/nn/modules/activation.h>
#include <torch/utils.h>

#include <cstdlib>
#endif

namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

void defineAttentionBlocks(BlockRegistry& r)
{
    BlockDefinition d;
    d.spec = {"din_attention", "DIN attention", "Pooling",
              "DIN's local activation unit: an MLP scores each behaviour against the candidate, and the "
              "behaviours are summed with these weights (no softmax, so the total keeps the strength of "
              "interest; Zhou et al. 2018).",
              "w_l = MLP([h_l; t; h_l − t; h_l ⊙ t]),  y = Σ_l m_l w_l h_l",
              {floatIn("keys", "behaviours h"), floatIn("query", "candidate t")},
              {out("pooled", ValueKind::Float)},
              {layersParam("layers", "Unit layer sizes", {80, 40}, "Hidden widths of the unit (then one output)"),
               choiceParam("activation", "Activation", "dice", activationNames(), "In the unit's hidden layers")}};
    d.traits.weighsBehaviours = true;
    d.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        if (!c.vectors(0) || !c.vectors(1))
            return std::nullopt;
        const ValueType &keys = c.in[0], &query = c.in[1];
        if (!keys.sequence)
            return c.fail("keys", "expects the behaviours as a sequence (B×L×d), got " + keys.text());
        if (query.sequence)
            return c.fail("query", "expects one candidate vector per row (B×d), got " + query.text());
        if (keys.width != query.width)
            return c.fail("query", "widths differ: keys are " + keys.text() + ", the query is " + query.text());
        int64_t width = 4 * keys.width;
        for (const auto& size : c.params["layers"]) {
            const int64_t units = size.get<int64_t>();
            c.parameters += width * units + units + activationParameters(c.params["activation"], units);
            width = units;
        }
        c.parameters += width + 1;
        return ValueType{ValueKind::Float, "", false, keys.width};
    };
    r.add(std::move(d));
}

#else // the LibTorch half

namespace {

class DinAttentionKernel : public BlockKernel {
    struct State : StepState {
        torch::nn::Linear input{nullptr}; // the unit's first layer over [h, t, h - t, h * t]
        torch::nn::Sequential tail{nullptr};
    };

    // Training runs the unit as one fused node (compiled/ActivationUnit.h) unless
    // RECLAB_AUTOGRAD_STEPS=1 asks for autograd, for comparisons.
    static bool fusedTraining()
    {
        static const bool off = [] {
            const char* v = std::getenv("RECLAB_AUTOGRAD_STEPS");
            return v && std::string(v) == "1";
        }();
        return !off;
    }

    // The tail's layers for the fused unit: an activation, then (linear, activation) pairs, then
    // the output; false for activations it does not fuse (only Dice and PReLU).
    static bool unitLayers(const State& st, UnitInputs& unit)
    {
        const auto children = st.tail->children();
        for (size_t k = 0; k < children.size(); ++k) {
            const auto& m = children[k];
            if (k + 1 == children.size()) {
                const auto out = std::dynamic_pointer_cast<torch::nn::LinearImpl>(m);
                if (!out)
                    return false;
                unit.outWeight = out->weight;
                unit.outBias = out->bias;
            } else if (const auto linear = std::dynamic_pointer_cast<torch::nn::LinearImpl>(m)) {
                if (unit.layers.empty() || !unit.layers.back().alpha.defined())
                    return false;
                unit.layers.emplace_back();
                unit.layers.back().weight = linear->weight;
                unit.layers.back().bias = linear->bias;
            } else {
                if (unit.layers.empty())
                    unit.layers.emplace_back();
                if (unit.layers.back().alpha.defined())
                    return false;
                UnitLayer& l = unit.layers.back();
                if (const auto dice = std::dynamic_pointer_cast<DiceImpl>(m)) {
                    l.activation = UnitActivation::Dice;
                    l.alpha = dice->alpha();
                    l.runningMean = dice->runningMean();
                    l.runningVar = dice->runningVar();
                } else if (const auto prelu = std::dynamic_pointer_cast<torch::nn::PReLUImpl>(m)) {
                    l.activation = UnitActivation::PReLU;
                    l.alpha = prelu->weight;
                } else {
                    return false;
                }
            }
        }
        return !unit.layers.empty() && unit.layers.back().alpha.defined();
    }

public:
    void compile(CompileContext& c, GraphStep& s) const override
    {
        auto state = std::make_unique<State>();
        const auto& p = s.params;
        auto unit = std::make_shared<torch::nn::Module>();
        state->input = unit->register_module("input", torch::nn::Linear(4 * s.inputTypes[0].width, p["layers"][0].get<int64_t>()));
        auto tail = tower(0, p["layers"], p["activation"], 0.0, false);
        tail->push_back(torch::nn::Linear(p["layers"].back().get<int64_t>(), 1));
        state->tail = unit->register_module("tail", tail);
        c.model.register_module(s.id, unit);
        s.state = std::move(state);
    }

    BatchValue forward(BatchPass& p, GraphStep& s, const Inputs<BatchValue>& in) const override
    {
        State& st = s.as<State>();
        BatchValue& keys = *in[0];
        const auto& query = in[1]->materialise();
        const auto chunks = st.input->weight.chunk(4, 1);
        const auto keyWeight = (chunks[0] + chunks[2]).t();
        const auto perRow = torch::addmm(st.input->bias, query, (chunks[1] - chunks[2]).t());
        if (p.training && p.fused && torch::GradMode::is_enabled() && fusedTraining()) {
            UnitInputs unit;
            if (unitLayers(st, unit)) {
                unit.table = keys.table.defined() ? keys.table : keys.materialise();
                unit.index = keys.table.defined() ? keys.index : torch::arange(unit.table.size(0), p.rowOf.options());
                unit.keyPart = unit.table.matmul(keyWeight);
                unit.rowOf = p.rowOf;
                unit.query = query;
                unit.perRow = perRow;
                unit.cross = chunks[3];
                if (fusedUnitApplies(unit)) {
                    BatchValue out;
                    out.rows = fusedActivationUnit(unit, evaluationThreads());
                    return out;
                }
            }
        }
        const auto perKey = keys.table.defined() ? keys.table.matmul(keyWeight).index_select(0, keys.index)
                                                 : keys.materialise().matmul(keyWeight);
        const auto& h = keys.materialise();
        const auto t = query.index_select(0, p.rowOf);
        const auto first = perKey + perRow.index_select(0, p.rowOf) + (h * t).matmul(chunks[3].t());
        const auto w = st.tail->forward(first).squeeze(1);
        BatchValue out;
        out.rows = torch::zeros({p.rows, h.size(1)}, h.options()).index_add(0, p.rowOf, h * w.unsqueeze(1));
        if (!p.training && p.behaviourWeights)
            *p.behaviourWeights = torch::zeros({p.rows * p.batch.history.size(1)}, h.options())
                                      .index_put({p.flat}, w.detach())
                                      .view({p.rows, p.batch.history.size(1)});
        return out;
    }

    bool spreadsTraining(const GraphStep& s) const override
    {
        const std::string activation = s.params["activation"].get<std::string>();
        return fusedTraining() && (activation == "dice" || activation == "prelu");
    }

    HistoryFlags planHistory(HistoryPlan& p, const GraphStep& s, const Inputs<HistoryFlags>& in) const override
    {
        p.ok = p.ok && in[0]->sequence && !in[1]->sequence;
        ++p.weighing;
        // The unit reads only the behaviour's and the candidate's vectors: its weights can be tabulated.
        if (!in[0]->user && !in[1]->user && !in[1]->history)
            p.tableStep = static_cast<int64_t>(s.index);
        return {false, in[0]->user || in[1]->user, true};
    }

    SharedValue scoreShared(SharedPass& p, GraphStep& s, const Inputs<SharedValue>& in) const override
    {
        const auto& keys = in[0]->t;  // [L, w]
        const auto& query = in[1]->t; // [n, w]
        const bool tabled = static_cast<int64_t>(s.index) == p.tableStep;
        if (p.collect && tabled) {
            p.keys = keys;
            p.query = query;
            p.stopped = true;
            return {};
        }
        const auto w = tabled && p.table.defined() ? p.table.index_select(0, p.history).index_select(1, p.candidates).t()
                                                   : behaviourWeights(s, keys, query);
        if (p.weights)
            *p.weights = w;
        return {w.matmul(keys), {}};
    }

    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        State& st = s.as<State>();
        const std::string v = ScriptPass::var(s), h = in[0]->name, t = v + "_query";
        p.line(t + " = " + in[1]->name + ".index_select(0, row_of)");
        p.line(v + "_w = " + p.linear("torch.cat([" + h + ", " + t + ", " + h + " - " + t + ", " + h + " * " + t + "], 1)",
                                      *st.input));
        for (auto& child : st.tail->children())
            p.line(v + "_w = " + p.layer(v + "_w", *child));
        p.line(v + " = (" + h + " * " + v + "_w * mask_f).view(batch, width, -1).sum(1)");
        return {v, false};
    }

    torch::Tensor behaviourWeights(GraphStep& s, const torch::Tensor& keys, const torch::Tensor& query) const override
    {
        State& st = s.as<State>();
        const auto chunks = st.input->weight.chunk(4, 1);
        const auto keyPart = keys.matmul((chunks[0] + chunks[2]).t());                          // [L, u]
        const auto rowPart = torch::addmm(st.input->bias, query, (chunks[1] - chunks[2]).t()); // [n, u]
        const auto cross = chunks[3].t().contiguous();                                          // [w, u]
        const int64_t n = query.size(0), length = keys.size(0), width = keys.size(1), units = keyPart.size(1);
        auto out = torch::empty({n, length}, keys.options());
        if (n == 0 || length == 0)
            return out;
        // About 8,192 (candidate, behaviour) rows per block: the unit's widest step stays in cache.
        const int64_t block = std::max<int64_t>(1, 8192 / length);
        const int64_t blocks = (n + block - 1) / block;
        auto runBlocks = [&](int64_t from, int64_t to) {
            for (int64_t b = from; b < to; ++b) {
                const int64_t start = b * block, len = std::min(block, n - start);
                const auto pairs = (query.narrow(0, start, len).unsqueeze(1) * keys.unsqueeze(0)).view({len * length, width});
                auto first = pairs.matmul(cross).view({len, length, units});
                first.add_(keyPart.unsqueeze(0)).add_(rowPart.narrow(0, start, len).unsqueeze(1));
                out.narrow(0, start, len).copy_(st.tail->forward(first.view({len * length, units})).view({len, length}));
            }
        };
        if (keys.device().is_cpu() && !torch::GradMode::is_enabled() && blocks > 1)
            parallelRanges(blocks, evaluationThreads(), [&](int64_t from, int64_t to) {
                const torch::NoGradGuard noGrad; // grad mode is per thread
                const SerialIntraOp serial;
                runBlocks(from, to);
            });
        else
            runBlocks(0, blocks);
        return out;
    }
};

} // namespace

void addAttentionKernels(KernelRegistry& r) { r.add("din_attention", std::make_unique<DinAttentionKernel>()); }

#endif

} // namespace reclab
