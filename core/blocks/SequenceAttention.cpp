// Reading a sequence with a query: the latest entry of a sequence (a session's current
// interest), and additive attention over the entries for a query vector (Bahdanau's score,
// NARM's local encoder, STAMP's attention net). Padding is masked out of every weight, and a row
// without entries gives zeros, never NaN.
#include "blocks/BlockHalves.h"

#ifdef RECLAB_BLOCK_KERNELS
#include "blocks/KeysQuery.h"
#endif

namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

void defineSequenceAttentionBlocks(BlockRegistry& r)
{
    BlockDefinition latest;
    latest.spec = {"latest_entry", "Latest entry", "Sequence",
                   "The vector of each sequence's latest real entry (a recurrent network's final state when the "
                   "sequence holds its state after every entry; the item just consumed when it holds the items). "
                   "Zeros for an empty history.",
                   "y = x_{len − 1}",
                   {floatIn("in", "sequence")},
                   {out("y", ValueKind::Float)},
                   {}};
    latest.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        if (!c.vectors(0) || !sequenceInput(c, 0))
            return std::nullopt;
        return ValueType{ValueKind::Float, "", false, c.in[0].width};
    };
    r.add(std::move(latest));

    BlockDefinition additive;
    additive.spec = {"additive_attention", "Additive attention", "Sequence",
                     "Scores each entry of the sequence against the query with a small network (Bahdanau's additive "
                     "score) and returns the entries' weighted sum. Softmax makes the weights a distribution; none "
                     "keeps the raw scores (NARM's local encoder, STAMP's attention net).",
                     "e_j = vᵀ act(W_k k_j + W_q q + b),  α = softmax(e) or e (padding: 0),  y = Σ_j α_j k_j",
                     {floatIn("keys", "entries k"), floatIn("query", "query q")},
                     {out("y", ValueKind::Float)},
                     {intParam("units", "Units", 64, 1, 65536, "The width of the scoring network"),
                      choiceParam("activation", "Activation", "tanh", {"tanh", "sigmoid"},
                                  "tanh (Bahdanau) or sigmoid (NARM, STAMP)"),
                      choiceParam("weights", "Weights", "softmax", {"softmax", "none"},
                                  "softmax over the real entries, or the raw scores")}};
    additive.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        if (!c.vectors(0) || !c.vectors(1))
            return std::nullopt;
        const ValueType &keys = c.in[0], &query = c.in[1];
        if (!keys.sequence)
            return c.fail("keys", "expects the entries as a sequence (B×L×d), got " + keys.text());
        if (query.sequence)
            return c.fail("query", "expects one query vector per row (B×q), got " + query.text());
        const int64_t units = c.params["units"].get<int64_t>();
        c.parameters = keys.width * units + units + query.width * units + units;
        c.widest = std::max(c.widest, units);
        return ValueType{ValueKind::Float, "", false, keys.width};
    };
    r.add(std::move(additive));
}

#else // the LibTorch half

namespace {

class LatestKernel : public BlockKernel {
public:
    BatchValue forward(BatchPass& p, GraphStep&, const Inputs<BatchValue>& in) const override
    {
        const auto& x = in[0]->materialise(); // packed: each row's entries in order
        BatchValue out;
        if (x.size(0) == 0)
            out.rows = torch::zeros({p.rows, x.size(1)}, x.options());
        else
            out.rows = x.index_select(0, (p.lengths.cumsum(0) - 1).clamp_min(0)) *
                       (p.lengths > 0).unsqueeze(1).to(x.scalar_type());
        return out;
    }
    HistoryFlags planHistory(HistoryPlan& p, const GraphStep&, const Inputs<HistoryFlags>& in) const override
    {
        p.ok = p.ok && in[0]->sequence;
        return {false, in[0]->user, true};
    }
    SharedValue scoreShared(SharedPass& p, GraphStep&, const Inputs<SharedValue>& in) const override
    {
        const auto& x = in[0]->t; // [L, d]
        const auto last = x.size(0) > 0 ? x.narrow(0, x.size(0) - 1, 1) : torch::zeros({1, x.size(1)}, x.options());
        return {last.expand({p.n, x.size(1)}), {}};
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        return p.assign(s, in[0]->name + ".view(batch, width, -1)[torch.arange(batch, device=history.device), "
                                         "(history_length - 1).clamp(min=0)] * (history_length > 0).float().unsqueeze(1)");
    }
};

class AdditiveKernel : public KeysQueryKernel {
    struct State : StepState {
        torch::nn::Linear key{nullptr}, query{nullptr}, score{nullptr};
        bool sigmoid = false, softmax = true;
    };

public:
    void compile(CompileContext& c, GraphStep& s) const override
    {
        auto st = std::make_unique<State>();
        const int64_t units = s.params["units"].get<int64_t>();
        auto unit = std::make_shared<torch::nn::Module>();
        st->key = unit->register_module("key", torch::nn::Linear(s.inputTypes[0].width, units));
        st->query = unit->register_module("query", torch::nn::Linear(torch::nn::LinearOptions(s.inputTypes[1].width, units).bias(false)));
        st->score = unit->register_module("score", torch::nn::Linear(torch::nn::LinearOptions(units, 1).bias(false)));
        c.model.register_module(s.id, unit);
        st->sigmoid = s.params["activation"] == "sigmoid";
        st->softmax = s.params["weights"] == "softmax";
        s.state = std::move(st);
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        State& st = s.as<State>();
        const std::string v = ScriptPass::var(s);
        p.line(v + "_k = (" + in[0]->name + " * mask_f).view(batch, width, -1)");
        p.line(v + "_e = " + p.linear(v + "_k", *st.key) + " + " + p.linear(in[1]->name, *st.query) + ".unsqueeze(1)");
        p.line(v + "_e = " + p.linear(std::string(st.sigmoid ? "torch.sigmoid(" : "torch.tanh(") + v + "_e)", *st.score) + ".squeeze(2)");
        p.line(v + "_valid = mask.view(batch, width)");
        if (st.softmax)
            p.line(v + "_w = torch.softmax(" + v + "_e.masked_fill(~" + v + "_valid, -1e9), 1) * " + v + "_valid.float()");
        else
            p.line(v + "_w = " + v + "_e * " + v + "_valid.float()");
        return p.assign(s, "torch.bmm(" + v + "_w.unsqueeze(1), " + v + "_k).squeeze(1)");
    }

protected:
    torch::Tensor attend(GraphStep& s, const torch::Tensor& keys, const torch::Tensor& valid, const torch::Tensor& query,
                         torch::Tensor*) const override
    {
        const auto w = weights(s.as<State>(), keys, query, valid);
        return keys.size(0) == 1 ? w.matmul(keys.select(0, 0)) : torch::bmm(w.unsqueeze(1), keys).squeeze(1);
    }

private:
    // The weights [rows, L] of keys [rows or 1, L, d] for queries [rows, q], 0 where not valid.
    static torch::Tensor weights(State& st, const torch::Tensor& keys, const torch::Tensor& query, const torch::Tensor& valid)
    {
        auto e = st.key->forward(keys) + st.query->forward(query).unsqueeze(1); // keys projected once when shared
        e = st.score->forward(st.sigmoid ? torch::sigmoid(e) : torch::tanh(e)).squeeze(2);
        const auto mask = valid.to(e.scalar_type());
        if (!st.softmax)
            return e * mask;
        // −10⁹ rather than −∞: a row without entries softmaxes to finite weights, then zeroed.
        return torch::softmax(e.masked_fill(valid.logical_not(), -1e9), 1) * mask;
    }
};

} // namespace

void addSequenceAttentionKernels(KernelRegistry& r)
{
    r.add("latest_entry", std::make_unique<LatestKernel>());
    r.add("additive_attention", std::make_unique<AdditiveKernel>());
}

#endif

} // namespace reclab
