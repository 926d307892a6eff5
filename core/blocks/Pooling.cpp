// Pooling: the sum or mean of a sequence's real entries (padding never counts).
#include "blocks/BlockHalves.h"


namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

namespace {

BlockDefinition pool(const char* type, const char* name, const char* summary, const char* formula)
{
    BlockDefinition d;
    d.spec = {type, name, "Pooling", summary, formula, {floatIn("in", "sequence")}, {out("y", ValueKind::Float)}, {}};
    d.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        if (!c.vectors(0) || !sequenceInput(c, 0))
            return std::nullopt;
        return ValueType{ValueKind::Float, "", false, c.in[0].width};
    };
    return d;
}

} // namespace

void definePoolingBlocks(BlockRegistry& r)
{
    r.add(pool("sum_pool", "Sum pooling", "Adds the vectors of a sequence's real entries.", "y = Σ_l m_l x_l"));
    r.add(pool("mean_pool", "Mean pooling", "Averages the vectors of a sequence's real entries.",
               "y = Σ_l m_l x_l / Σ_l m_l"));
}

#else // the LibTorch half

namespace {

class PoolKernel : public BlockKernel {
public:
    explicit PoolKernel(bool mean) : mean_(mean) {}

    BatchValue forward(BatchPass& p, GraphStep&, const Inputs<BatchValue>& in) const override
    {
        const auto& r = in[0]->materialise();
        BatchValue out;
        out.rows = torch::zeros({p.rows, r.size(1)}, r.options()).index_add(0, p.rowOf, r);
        if (mean_)
            out.rows = out.rows / p.lengths.clamp_min(1).to(r.scalar_type()).unsqueeze(1);
        return out;
    }
    HistoryFlags planHistory(HistoryPlan& p, const GraphStep&, const Inputs<HistoryFlags>& in) const override
    {
        p.ok = p.ok && in[0]->sequence;
        return {false, in[0]->user, true};
    }
    SharedValue scoreShared(SharedPass& p, GraphStep&, const Inputs<SharedValue>& in) const override
    {
        const auto& r = in[0]->t;
        auto pooled = r.sum(0, true);
        if (mean_)
            pooled = pooled / static_cast<double>(std::max<int64_t>(p.length, 1));
        return {pooled.expand({p.n, r.size(1)}), {}};
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        const ScriptValue v = p.assign(s, "(" + in[0]->name + " * mask_f).view(batch, width, -1).sum(1)");
        if (mean_)
            p.line(v.name + " = " + v.name + " / history_length.clamp(min=1).float().unsqueeze(1)");
        return v;
    }

private:
    bool mean_;
};

} // namespace

void addPoolingKernels(KernelRegistry& r)
{
    r.add("sum_pool", std::make_unique<PoolKernel>(false));
    r.add("mean_pool", std::make_unique<PoolKernel>(true));
}

#endif

} // namespace reclab
