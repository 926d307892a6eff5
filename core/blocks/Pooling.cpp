// Pooling: one vector from a sequence's real entries (a behaviour history, or a text's words):
// their sum, mean or maximum, or an attention-weighted sum with learned weights. Padding never
// counts, and a row without entries gives zeros.
#include "blocks/BlockHalves.h"

#ifdef RECLAB_BLOCK_KERNELS
#include <torch/nn/modules/linear.h>
#endif

namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

namespace {

BlockDefinition pool(const char* type, const char* name, const char* summary, const char* formula)
{
    BlockDefinition d;
    d.spec = {type, name, "Pooling", summary, formula, {sequenceIn()}, {out("y", ValueKind::Float)}, {}};
    d.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        if (!readsSequence(c, 0))
            return std::nullopt;
        return ValueType{ValueKind::Float, "", false, c.in[0].width};
    };
    return d;
}

} // namespace

void definePoolingBlocks(BlockRegistry& r)
{
    r.add(pool("sum_pool", "Sum pooling", "Adds the vectors of a sequence's real entries (behaviours or words).",
               "y = Σ_l m_l x_l"));
    r.add(pool("mean_pool", "Mean pooling", "Averages the vectors of a sequence's real entries (behaviours or words).",
               "y = Σ_l m_l x_l / Σ_l m_l"));
    r.add(pool("max_pool", "Max pooling",
               "Keeps each dimension's largest value over a sequence's real entries (behaviours or words).",
               "y_k = max_{l: m_l = 1} x_{l,k}  (0 without entries)"));
    BlockDefinition attention = pool(
        "attention_pool", "Attention pooling",
        "A learned weighted sum of a sequence's entries: each entry scores itself through a small tanh layer "
        "and a context vector, and the softmax of the scores over the real entries weighs it (Yang et al. "
        "2016's attention over words). The weights show which words or behaviours a row rests on.",
        "s_l = uᵀ tanh(W x_l + b),  a = softmax_{l: m_l = 1}(s),  y = Σ_l a_l x_l");
    attention.spec.params = {intParam("hidden", "Hidden size", 32, 1, 4096, "The width of the tanh layer")};
    attention.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        if (!readsSequence(c, 0))
            return std::nullopt;
        const int64_t h = c.params["hidden"].get<int64_t>(), d = c.in[0].width;
        c.parameters = h * d + h + h;
        c.widest = std::max(c.widest, h);
        return ValueType{ValueKind::Float, "", false, d};
    };
    r.add(std::move(attention));
}

#else // the LibTorch half

namespace {

// The sum or mean over texts' word vectors x [n, T, d] with word ids [n, T].
torch::Tensor poolWords(const torch::Tensor& x, const torch::Tensor& words, bool mean)
{
    const auto m = (words > 0).to(x.scalar_type());
    auto y = (x * m.unsqueeze(2)).sum(1);
    return mean ? y / m.sum(1, true).clamp_min(1) : y;
}

class PoolKernel : public BlockKernel {
public:
    explicit PoolKernel(bool mean) : mean_(mean) {}

    BatchValue forward(BatchPass& p, GraphStep& s, const Inputs<BatchValue>& in) const override
    {
        const auto& r = in[0]->materialise();
        BatchValue out;
        if (readsWords(s)) {
            out.rows = poolWords(r, in[0]->ids, mean_);
            return out;
        }
        out.rows = torch::zeros({p.rows, r.size(1)}, r.options()).index_add(0, p.rowOf, r);
        if (mean_)
            out.rows = out.rows / p.lengths.clamp_min(1).to(r.scalar_type()).unsqueeze(1);
        return out;
    }
    PairValue scoreAll(PairPass& p, GraphStep& s, const Inputs<PairValue>& in) const override
    {
        if (!readsWords(s))
            return BlockKernel::scoreAll(p, s, in);
        return {in[0]->g, poolWords(in[0]->t, in[0]->ids, mean_)};
    }
    HistoryFlags planHistory(HistoryPlan& p, const GraphStep& s, const Inputs<HistoryFlags>& in) const override
    {
        if (readsWords(s))
            return BlockKernel::planHistory(p, s, in);
        p.ok = p.ok && in[0]->sequence;
        return {false, in[0]->user, true};
    }
    SharedValue scoreShared(SharedPass& p, GraphStep& s, const Inputs<SharedValue>& in) const override
    {
        const auto& r = in[0]->t;
        if (readsWords(s))
            return {poolWords(r, in[0]->ids, mean_), {}};
        auto pooled = r.sum(0, true);
        if (mean_)
            pooled = pooled / static_cast<double>(std::max<int64_t>(p.length, 1));
        return {pooled.expand({p.n, r.size(1)}), {}};
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        if (readsWords(s)) {
            const std::string m = "(" + in[0]->words + " > 0).float()";
            const std::string sum = "(" + in[0]->name + " * " + m + ".unsqueeze(2)).sum(1)";
            return p.assign(s, mean_ ? sum + " / " + m + ".sum(1, keepdim=True).clamp(min=1)" : sum);
        }
        const ScriptValue v = p.assign(s, "(" + in[0]->name + " * mask_f).view(batch, width, -1).sum(1)");
        if (mean_)
            p.line(v.name + " = " + v.name + " / history_length.clamp(min=1).float().unsqueeze(1)");
        return v;
    }

private:
    bool mean_;
};

// Whether each entry of padded sequences [n, L] is real: [n, L].
torch::Tensor realEntries(const torch::Tensor& lengths, int64_t L)
{
    return torch::arange(L, lengths.options()).unsqueeze(0) < lengths.unsqueeze(1);
}

class MaxPoolKernel : public PaddedSequenceKernel {
public:
    bool everyEntry(const GraphStep&) const override { return false; }
    torch::Tensor run(const GraphStep&, const torch::Tensor& x, const torch::Tensor& lengths) const override
    {
        if (x.size(1) == 0)
            return torch::zeros({x.size(0), x.size(2)}, x.options());
        const auto real = realEntries(lengths, x.size(1)).unsqueeze(2);
        const auto y = std::get<0>(x.masked_fill(real.logical_not(), -std::numeric_limits<float>::infinity()).max(1));
        return y.masked_fill((lengths == 0).unsqueeze(1), 0.0);
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        const PaddedScript q = p.padded(s, *in[0]);
        const std::string v = ScriptPass::var(s);
        p.line(v + "_real = torch.arange(" + q.width + ", device=" + q.device + ").unsqueeze(0) < " + q.lengths + ".unsqueeze(1)");
        return p.assign(s, q.x + ".masked_fill(" + v + "_real.logical_not().unsqueeze(2), -float('inf')).max(1)[0].masked_fill((" +
                               q.lengths + " == 0).unsqueeze(1), 0.0)");
    }
};

class AttentionPoolKernel : public PaddedSequenceKernel {
    struct State : StepState {
        torch::nn::Linear project{nullptr};
        torch::Tensor context; // u [h]
    };

public:
    void compile(CompileContext& c, GraphStep& s) const override
    {
        auto st = std::make_unique<State>();
        const int64_t h = s.params["hidden"].get<int64_t>(), d = s.inputTypes[0].width;
        st->project = c.model.register_module(s.id, torch::nn::Linear(d, h));
        torch::NoGradGuard noGrad;
        const double bound = 1.0 / std::sqrt(static_cast<double>(h));
        st->context = c.model.register_parameter(s.id + "_context", torch::empty({h}).uniform_(-bound, bound));
        s.state = std::move(st);
    }
    bool everyEntry(const GraphStep&) const override { return false; }
    torch::Tensor run(const GraphStep& s, const torch::Tensor& x, const torch::Tensor& lengths) const override
    {
        auto& st = s.as<State>();
        if (x.size(1) == 0)
            return torch::zeros({x.size(0), x.size(2)}, x.options());
        const auto scores = torch::matmul(torch::tanh(st.project->forward(x)), st.context); // [n, L]
        const auto real = realEntries(lengths, x.size(1));
        // Rows without entries: all scores masked, softmax NaN, replaced by zero weights.
        auto weights = torch::softmax(scores.masked_fill(real.logical_not(), -std::numeric_limits<float>::infinity()), 1);
        weights = weights.masked_fill((lengths == 0).unsqueeze(1), 0.0);
        return torch::matmul(weights.unsqueeze(1), x).squeeze(1);
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        auto& st = s.as<State>();
        const PaddedScript q = p.padded(s, *in[0]);
        const std::string v = ScriptPass::var(s);
        p.line(v + "_x = " + q.x);
        p.line(v + "_real = torch.arange(" + q.width + ", device=" + q.device + ").unsqueeze(0) < " + q.lengths + ".unsqueeze(1)");
        p.line(v + "_s = torch.matmul(torch.tanh(" + p.linear(v + "_x", *st.project) + "), " + p.self(st.context) + ")");
        p.line(v + "_a = torch.softmax(" + v + "_s.masked_fill(" + v + "_real.logical_not(), -float('inf')), 1).masked_fill((" +
               q.lengths + " == 0).unsqueeze(1), 0.0)");
        return p.assign(s, "torch.matmul(" + v + "_a.unsqueeze(1), " + v + "_x).squeeze(1)");
    }
};

} // namespace

void addPoolingKernels(KernelRegistry& r)
{
    r.add("sum_pool", std::make_unique<PoolKernel>(false));
    r.add("mean_pool", std::make_unique<PoolKernel>(true));
    r.add("max_pool", std::make_unique<MaxPoolKernel>());
    r.add("attention_pool", std::make_unique<AttentionPoolKernel>());
}

#endif

} // namespace reclab
