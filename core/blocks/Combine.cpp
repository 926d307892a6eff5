// Combine: element-wise product and sum, the dot product, and concatenation. A per-row vector
// meeting a sequence is repeated along it.
#include "blocks/BlockHalves.h"


namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

namespace {

BlockDefinition binary(const char* type, const char* name, const char* summary, const char* formula, bool dot)
{
    BlockDefinition d;
    d.spec = {type, name, "Combine", summary, formula, {floatIn("a", "a"), floatIn("b", "b")},
              {out("y", ValueKind::Float)}, {}};
    d.shape = [dot](ShapeContext& c) -> std::optional<ValueType> {
        if (!c.vectors(0) || !c.vectors(1))
            return std::nullopt;
        const ValueType &a = c.in[0], &b = c.in[1];
        if (a.width != b.width)
            return c.fail("b", "widths differ: a is " + a.text() + ", b is " + b.text());
        return ValueType{ValueKind::Float, "", a.sequence || b.sequence, dot ? 1 : a.width};
    };
    return d;
}

} // namespace

void defineCombineBlocks(BlockRegistry& r)
{
    r.add(binary("product", "Element-wise product",
                 "Multiplies two vectors entry by entry (GMF's interaction). A vector meets every entry of a sequence.",
                 "y = a ⊙ b", false));
    r.add(binary("add", "Add", "Adds two vectors entry by entry.", "y = a + b", false));
    r.add(binary("dot", "Dot product", "The inner product of two vectors (MF's interaction).", "y = aᵀ b", true));

    BlockDefinition concat;
    concat.spec = {"concat", "Concatenation", "Combine",
                   "Joins vectors end to end. A vector joined with a sequence is repeated along it.",
                   "y = [x₁; x₂; …; x_N]",
                   {floatIn("in1", "x₁"), floatIn("in2", "x₂")},
                   {out("y", ValueKind::Float)},
                   {intParam("inputs", "Inputs", 2, 2, 8, "N, the number of inputs")}};
    concat.ports = [](const nlohmann::json& params) {
        int64_t n = 2;
        if (const auto it = params.find("inputs"); it != params.end() && it->is_number_integer())
            n = std::clamp<int64_t>(it->get<int64_t>(), 2, 8);
        std::vector<PortSpec> ports;
        for (int64_t k = 1; k <= n; ++k)
            ports.push_back({"in" + std::to_string(k), "x" + std::to_string(k), {ValueKind::Float}});
        return ports;
    };
    concat.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        ValueType out{ValueKind::Float, "", false, 0};
        for (size_t k = 0; k < c.in.size(); ++k) {
            if (!c.vectors(k))
                return std::nullopt;
            out.width += c.in[k].width;
            out.sequence = out.sequence || c.in[k].sequence;
        }
        return out;
    };
    r.add(std::move(concat));
}

#else // the LibTorch half

namespace {

enum class Op { Product, Add, Dot };

torch::Tensor apply(Op op, const torch::Tensor& a, const torch::Tensor& b)
{
    return op == Op::Add ? a + b : op == Op::Product ? a * b : (a * b).sum(-1, true);
}

class BinaryKernel : public BlockKernel {
public:
    explicit BinaryKernel(Op op) : op_(op) {}

    BatchValue forward(BatchPass& p, GraphStep&, const Inputs<BatchValue>& in) const override
    {
        BatchValue out;
        out.sequence = in[0]->sequence || in[1]->sequence;
        out.rows = apply(op_, p.rowsFor(*in[0], out.sequence), p.rowsFor(*in[1], out.sequence));
        return out;
    }
    PairValue scoreAll(PairPass& p, GraphStep&, const Inputs<PairValue>& in) const override
    {
        const PairValue &a = *in[0], &b = *in[1];
        const bool userAndItem = a.plain() && b.plain() && a.g != b.g && a.g != Granularity::Pair && b.g != Granularity::Pair;
        if (userAndItem && op_ != Op::Add) {
            const bool userFirst = a.g == Granularity::User;
            const auto& u = userFirst ? a.t : b.t;
            const auto& i = userFirst ? b.t : a.t;
            if (op_ == Op::Dot) // one [s, w] x [w, I] product
                return {Granularity::Pair, torch::matmul(u, i.t()).reshape({p.users() * p.items(), 1})};
            PairValue out; // the product stays unformed until a linear layer reduces it
            out.g = Granularity::Pair;
            out.left = u;
            out.right = i;
            return out;
        }
        const Op op = op_;
        return p.combine(a, b, [op](const torch::Tensor& x, const torch::Tensor& y) { return apply(op, x, y); });
    }
    SharedValue scoreShared(SharedPass&, GraphStep&, const Inputs<SharedValue>& in) const override
    {
        return {op_ == Op::Dot ? (in[0]->t * in[1]->t).sum(1, true) : apply(op_, in[0]->t, in[1]->t), {}};
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        const bool sequence = s.output && s.output->sequence;
        const std::string x = ScriptPass::rows(*in[0], sequence), y = ScriptPass::rows(*in[1], sequence);
        return p.assign(s, op_ == Op::Add       ? x + " + " + y
                           : op_ == Op::Product ? x + " * " + y
                                                : "(" + x + " * " + y + ").sum(1, keepdim=True)");
    }

private:
    Op op_;
};

class ConcatKernel : public BlockKernel {
public:
    BatchValue forward(BatchPass& p, GraphStep&, const Inputs<BatchValue>& in) const override
    {
        bool sameIndex = true, sequence = false;
        for (const BatchValue* v : in) {
            sameIndex = sameIndex && v->table.defined() && v->index.unsafeGetTensorImpl() == in[0]->index.unsafeGetTensorImpl();
            sequence = sequence || v->sequence;
        }
        BatchValue out;
        out.sequence = sequence;
        std::vector<torch::Tensor> parts;
        if (sameIndex) { // lookups of the same ids: one table of the joined columns
            for (const BatchValue* v : in)
                parts.push_back(v->table);
            out.table = torch::cat(parts, 1);
            out.index = in[0]->index;
        } else {
            for (BatchValue* v : in)
                parts.push_back(p.rowsFor(*v, sequence));
            out.rows = torch::cat(parts, 1);
        }
        return out;
    }
    PairValue scoreAll(PairPass&, GraphStep&, const Inputs<PairValue>& in) const override
    {
        bool same = true;
        for (const PairValue* v : in)
            same = same && v->plain() && v->g == in[0]->g;
        PairValue out;
        if (same) {
            std::vector<torch::Tensor> pieces;
            for (const PairValue* v : in)
                pieces.push_back(v->t);
            return {in[0]->g, torch::cat(pieces, 1)};
        }
        out.g = Granularity::Pair; // kept in pieces for a linear layer to take apart
        for (const PairValue* v : in) {
            if (!v->parts.empty())
                out.parts.insert(out.parts.end(), v->parts.begin(), v->parts.end());
            else
                out.parts.push_back(*v);
        }
        return out;
    }
    SharedValue scoreShared(SharedPass&, GraphStep&, const Inputs<SharedValue>& in) const override
    {
        std::vector<torch::Tensor> parts;
        for (const SharedValue* v : in)
            parts.push_back(v->t);
        return {torch::cat(parts, 1), {}};
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        const bool sequence = s.output && s.output->sequence;
        std::string parts;
        for (const ScriptValue* v : in)
            parts += (parts.empty() ? "" : ", ") + ScriptPass::rows(*v, sequence);
        return p.assign(s, "torch.cat([" + parts + "], 1)");
    }
};

} // namespace

void addCombineKernels(KernelRegistry& r)
{
    r.add("product", std::make_unique<BinaryKernel>(Op::Product));
    r.add("add", std::make_unique<BinaryKernel>(Op::Add));
    r.add("dot", std::make_unique<BinaryKernel>(Op::Dot));
    r.add("concat", std::make_unique<ConcatKernel>());
}

#endif

} // namespace reclab
