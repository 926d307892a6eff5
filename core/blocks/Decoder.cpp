// The decoder half of a sequence-to-sequence recommender: a GRU decoder that starts from the
// encoder's summary and, for each of K steps, attends over the encoder's states (Bahdanau's
// additive score or Luong's general one), then emits a state for the item that many steps ahead.
// The states of all K steps leave side by side (B×K·d): the Next-item output scores the first
// as the next item and trains the others on the items after it. Padding is masked out of every
// weight, and a row without entries attends to nothing (a zero context), never NaN.
#include "blocks/BlockHalves.h"

#ifdef RECLAB_BLOCK_KERNELS
#include "blocks/KeysQuery.h"

#include <torch/nn/modules/rnn.h>
#endif

namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

void defineDecoderBlocks(BlockRegistry& r)
{
    BlockDefinition d;
    d.spec = {"attention_decoder",
              "Attention decoder",
              "Sequence",
              "A GRU decoder over K steps, started from the encoder's summary: at each step it weighs the "
              "encoder's states against its own state, reads their weighted sum (the context), updates its state "
              "from the context and the previous step's output, and emits a vector for the item that many steps "
              "ahead. The K outputs leave side by side (B×K·d) for a Next-item output with the same steps.",
              "s₀ = tanh(W_s u + b_s),  o₀ = 0;  for k = 1…K:\n"
              "e_kj = vᵀ tanh(W_h h_j + W_q s_{k−1} + b) (bahdanau) or s_{k−1}ᵀ W_a h_j (luong),\n"
              "α_k = softmax_j(e_k) over the real entries,  c_k = Σ_j α_kj h_j,\n"
              "s_k = GRU([c_k; o_{k−1}], s_{k−1}),  o_k = W_o [s_k; c_k] + b_o;  y = (o_1 … o_K)",
              {floatIn("states", "encoder states h"), floatIn("init", "encoder summary u")},
              {out("y", ValueKind::Float)},
              {intParam("steps", "Steps", 3, 1, 20, "K, the items emitted: the next one and the K − 1 after it"),
               intParam("hidden", "Hidden size", 64, 1, 4096, "The width of the decoder's state"),
               intParam("width", "Output width", 64, 1, 4096, "d, each step's output (the item vectors' width)"),
               choiceParam("score", "Attention score", "bahdanau", {"bahdanau", "luong"},
                           "bahdanau: additive (a small tanh network); luong: general (a bilinear form)")}};
    d.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        if (!c.vectors(0) || !c.vectors(1) || !sequenceInput(c, 0))
            return std::nullopt;
        if (c.in[1].sequence)
            return c.fail("init", "expects one summary per row (B×u), got " + c.in[1].text() +
                                      " (a Latest entry block gives the encoder's final state)");
        const int64_t h = c.in[0].width, u = c.in[1].width, K = c.params["steps"].get<int64_t>();
        const int64_t s = c.params["hidden"].get<int64_t>(), d = c.params["width"].get<int64_t>();
        const bool additive = c.params["score"] == "bahdanau";
        c.parameters = u * s + s                                      // s₀
                       + (additive ? h * s + s + s * s + s : h * s)   // the score
                       + 3 * s * (h + d) + 3 * s * s + 6 * s          // the GRU cell
                       + (s + h) * d + d;                             // the output
        c.widest = std::max(c.widest, 3 * s);
        return ValueType{ValueKind::Float, "", false, K * d};
    };
    d.traits.attendsWithinSequence = true;
    r.add(std::move(d));
}

#else // the LibTorch half

namespace {

class DecoderKernel : public KeysQueryKernel {
    struct State : StepState {
        torch::nn::Linear start{nullptr}, key{nullptr}, query{nullptr}, score{nullptr}, output{nullptr};
        torch::nn::GRUCell cell{nullptr};
        int64_t steps = 1, width = 1;
        bool additive = true;
    };

public:
    void compile(CompileContext& c, GraphStep& s) const override
    {
        auto st = std::make_unique<State>();
        const int64_t h = s.inputTypes[0].width, u = s.inputTypes[1].width;
        const int64_t hidden = s.params["hidden"].get<int64_t>(), d = s.params["width"].get<int64_t>();
        st->steps = s.params["steps"].get<int64_t>();
        st->width = d;
        st->additive = s.params["score"] == "bahdanau";
        auto unit = std::make_shared<torch::nn::Module>();
        using torch::nn::Linear, torch::nn::LinearOptions;
        st->start = unit->register_module("start", Linear(u, hidden));
        st->key = unit->register_module("key", Linear(LinearOptions(h, hidden).bias(st->additive)));
        if (st->additive) {
            st->query = unit->register_module("query", Linear(LinearOptions(hidden, hidden).bias(false)));
            st->score = unit->register_module("score", Linear(LinearOptions(hidden, 1).bias(false)));
        }
        st->cell = unit->register_module("cell", torch::nn::GRUCell(h + d, hidden));
        st->output = unit->register_module("output", Linear(hidden + h, d));
        c.model.register_module(s.id, unit);
        s.state = std::move(st);
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        State& st = s.as<State>();
        const std::string v = ScriptPass::var(s);
        p.line(v + "_k = (" + in[0]->name + " * mask_f).view(batch, width, -1)");
        p.line(v + "_valid = mask.view(batch, width)");
        p.line(v + "_kp = " + p.linear(v + "_k", *st.key));
        p.line(v + "_s = torch.tanh(" + p.linear(in[1]->name, *st.start) + ")");
        p.line(v + "_o = torch.zeros(batch, " + std::to_string(st.width) + ", device=history.device)");
        const auto& cell = *st.cell;
        std::string outs;
        for (int64_t k = 0; k < st.steps; ++k) { // unrolled: K is small
            if (st.additive)
                p.line(v + "_e = " + p.linear("torch.tanh(" + v + "_kp + " + p.linear(v + "_s", *st.query) + ".unsqueeze(1))",
                                              *st.score) + ".squeeze(2)");
            else
                p.line(v + "_e = (" + v + "_kp * " + v + "_s.unsqueeze(1)).sum(2)");
            p.line(v + "_a = torch.softmax(" + v + "_e.masked_fill(~" + v + "_valid, -1e9), 1) * " + v + "_valid.float()");
            p.line(v + "_c = torch.bmm(" + v + "_a.unsqueeze(1), " + v + "_k).squeeze(1)");
            p.line(v + "_s = torch.gru_cell(torch.cat([" + v + "_c, " + v + "_o], 1), " + v + "_s, " + p.self(cell.weight_ih) +
                   ", " + p.self(cell.weight_hh) + ", " + p.self(cell.bias_ih) + ", " + p.self(cell.bias_hh) + ")");
            p.line(v + "_o" + std::to_string(k) + " = " + p.linear("torch.cat([" + v + "_s, " + v + "_c], 1)", *st.output));
            p.line(v + "_o = " + v + "_o" + std::to_string(k));
            outs += (k ? ", " : "") + v + "_o" + std::to_string(k);
        }
        return p.assign(s, "torch.cat([" + outs + "], 1)");
    }

protected:
    torch::Tensor attend(GraphStep& s, const torch::Tensor& keys, const torch::Tensor& valid, const torch::Tensor& init,
                         torch::Tensor* weightsOut) const override
    {
        return decode(s.as<State>(), keys, valid, init, weightsOut);
    }
    void record(std::vector<SequenceMap>& maps, const GraphStep& s, const torch::Tensor& weights) const override
    {
        maps.push_back({s.id, "decoder", weights.select(0, 0)}); // [K, L]
    }

private:
    // The K outputs [R, K·d] for keys [R or 1, L, h] whose entries are valid [R, L], from the
    // summaries init [R, u]; the weights of every step [R, K, L] into weightsOut when given.
    static torch::Tensor decode(State& st, const torch::Tensor& keys, const torch::Tensor& valid, const torch::Tensor& init,
                                torch::Tensor* weightsOut)
    {
        const int64_t R = init.size(0);
        const auto projected = st.key->forward(keys); // once for every step
        const auto mask = valid.to(keys.scalar_type());
        const auto flatKeys = keys.size(0) == 1 ? keys.select(0, 0) : torch::Tensor();
        auto s = torch::tanh(st.start->forward(init));
        auto o = torch::zeros({R, st.width}, init.options());
        std::vector<torch::Tensor> outputs, weights;
        for (int64_t k = 0; k < st.steps; ++k) {
            const auto e = st.additive ? st.score->forward(torch::tanh(projected + st.query->forward(s).unsqueeze(1))).squeeze(2)
                                       : (projected * s.unsqueeze(1)).sum(2);
            // −10⁹ rather than −∞: a row without entries softmaxes to finite weights, then zeroed.
            const auto a = torch::softmax(e.masked_fill(valid.logical_not(), -1e9), 1) * mask; // [R, L]
            const auto context = flatKeys.defined() ? a.matmul(flatKeys) : torch::bmm(a.unsqueeze(1), keys).squeeze(1);
            s = st.cell->forward(torch::cat({context, o}, 1), s);
            o = st.output->forward(torch::cat({s, context}, 1));
            outputs.push_back(o);
            if (weightsOut)
                weights.push_back(a);
        }
        if (weightsOut)
            *weightsOut = torch::stack(weights, 1);
        return torch::cat(outputs, 1);
    }
};

} // namespace

void addDecoderKernels(KernelRegistry& r)
{
    r.add("attention_decoder", std::make_unique<DecoderKernel>());
}

#endif

} // namespace reclab
