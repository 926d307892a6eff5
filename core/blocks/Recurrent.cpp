// Recurrent: an RNN, GRU or LSTM over a sequence of vectors (a user's behaviours in time order,
// or a text's words: the text GRU/LSTM), returning the state after the last real behaviour or the state after every one. Sequences are
// right-padded, so the forward direction never reads padding before a real step; the backward
// direction reads each sequence reversed in place (padding left where it is), and a row without
// behaviours gives zeros, never NaN.
#include "blocks/BlockHalves.h"

#ifdef RECLAB_BLOCK_KERNELS
#include <torch/nn/modules/rnn.h>
#endif

namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

namespace {

int64_t gates(const std::string& cell) { return cell == "lstm" ? 4 : cell == "gru" ? 3 : 1; }

} // namespace

void defineRecurrentBlocks(BlockRegistry& r)
{
    BlockDefinition d;
    d.spec = {"recurrent",
              "RNN / GRU / LSTM",
              "Sequence",
              "A recurrent network over the sequence, oldest first: the state after the last real entry (a "
              "summary of the history) or after every entry. Bidirectional adds a second stack that reads each "
              "sequence backwards; the two states are concatenated.",
              "GRU: z_t = σ(W_z x_t + U_z h_{t−1} + b_z),  r_t = σ(W_r x_t + U_r h_{t−1} + b_r),\n"
              "h̃_t = tanh(W x_t + U (r_t ⊙ h_{t−1}) + b),  h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t\n"
              "LSTM: c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t,  h_t = o_t ⊙ tanh(c_t);  RNN: h_t = tanh(W x_t + U h_{t−1} + b)\n"
              "y = h_{len} (last) or (h_1 … h_L) (every), h₀ = 0",
              {sequenceIn()},
              {out("y", ValueKind::Float)},
              {choiceParam("cell", "Cell", "gru", {"gru", "lstm", "rnn"}, "GRU, LSTM or a plain tanh RNN"),
               intParam("hidden", "Hidden size", 64, 1, 4096, "h, the width of the state"),
               intParam("layers", "Layers", 1, 1, 8, "Stacked layers, each reading the states of the one below"),
               realParam("dropout", "Dropout", 0.0, 0, 0.99, "Between stacked layers, while training"),
               boolParam("bidirectional", "Bidirectional", false,
                         "Also read each sequence backwards (its state summarises the whole sequence: for a "
                         "history read as a whole, not for predicting each next step)"),
               choiceParam("output", "Output", "last", {"last", "every"},
                           "last: the state after the latest real entry (B×h); every: the state after each entry (B×L×h)")}};
    d.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        if (!readsSequence(c, 0))
            return std::nullopt;
        const int64_t h = c.params["hidden"].get<int64_t>(), layers = c.params["layers"].get<int64_t>();
        const int64_t directions = c.params["bidirectional"].get<bool>() ? 2 : 1;
        const int64_t g = gates(c.params["cell"].get<std::string>());
        int64_t width = c.in[0].width;
        for (int64_t k = 0; k < layers; ++k) {
            c.parameters += directions * g * (h * width + h * h + 2 * h);
            width = h;
        }
        c.widest = std::max(c.widest, g * h);
        return sequenceOutput(c, 0, c.params["output"] == "every", h * directions);
    };
    r.add(std::move(d));
}

#else // the LibTorch half

namespace {

// One direction's stack of layers.
struct Stack {
    torch::nn::GRU gru{nullptr};
    torch::nn::LSTM lstm{nullptr};
    torch::nn::RNN rnn{nullptr};

    // States after every step of x [B, L, d] (batch first): [B, L, h].
    torch::Tensor run(const torch::Tensor& x) const
    {
        if (gru)
            return std::get<0>(gru.ptr()->forward(x));
        if (lstm)
            return std::get<0>(lstm.ptr()->forward(x));
        return std::get<0>(rnn.ptr()->forward(x));
    }
    std::vector<torch::Tensor> weights() const
    {
        return gru ? gru->all_weights() : lstm ? lstm->all_weights() : rnn->all_weights();
    }
};

struct RecurrentState : StepState {
    std::string cell;
    int64_t hidden = 0, layers = 1;
    bool bidirectional = false, every = false;
    Stack forward, backward;
};

// Each row's positions 0 … len−1 reversed, padding left in place: [B, L] (its own inverse).
torch::Tensor reversedPositions(const torch::Tensor& lengths, int64_t L)
{
    const auto pos = torch::arange(L, lengths.options()).unsqueeze(0);
    const auto len = lengths.unsqueeze(1);
    return torch::where(pos < len, len - 1 - pos, pos);
}

torch::Tensor gatherSteps(const torch::Tensor& x, const torch::Tensor& positions)
{
    return x.gather(1, positions.unsqueeze(2).expand({x.size(0), x.size(1), x.size(2)}));
}

// Each row's state at step len − 1 (zeros for a row without steps): [B, h].
torch::Tensor lastStep(const torch::Tensor& states, const torch::Tensor& lengths)
{
    const auto last = (lengths - 1).clamp_min(0).view({-1, 1, 1}).expand({states.size(0), 1, states.size(2)});
    return states.gather(1, last).squeeze(1) * (lengths > 0).unsqueeze(1).to(states.scalar_type());
}

// The block over right-padded sequences x [B, L, d] of these lengths: every state [B, L, h·dirs]
// or the last real one [B, h·dirs].
torch::Tensor runSequences(const RecurrentState& st, const torch::Tensor& x, const torch::Tensor& lengths)
{
    const auto forward = st.forward.run(x);
    if (!st.bidirectional)
        return st.every ? forward : lastStep(forward, lengths);
    const auto reversed = reversedPositions(lengths, x.size(1));
    // In reversed order the backward stack's state after the whole sequence is at len − 1 too.
    const auto backward = st.backward.run(gatherSteps(x, reversed));
    if (st.every)
        return torch::cat({forward, gatherSteps(backward, reversed)}, 2);
    return torch::cat({lastStep(forward, lengths), lastStep(backward, lengths)}, 1);
}

class RecurrentKernel : public PaddedSequenceKernel {
public:
    void compile(CompileContext& c, GraphStep& s) const override
    {
        auto st = std::make_unique<RecurrentState>();
        const auto& p = s.params;
        st->cell = p["cell"].get<std::string>();
        st->hidden = p["hidden"].get<int64_t>();
        st->layers = p["layers"].get<int64_t>();
        st->bidirectional = p["bidirectional"].get<bool>();
        st->every = p["output"] == "every";
        const int64_t in = s.inputTypes[0].width;
        const double dropout = st->layers > 1 ? p["dropout"].get<double>() : 0.0;
        auto make = [&](Stack& stack, const std::string& name) {
            if (st->cell == "gru")
                stack.gru = c.model.register_module(
                    name, torch::nn::GRU(torch::nn::GRUOptions(in, st->hidden).num_layers(st->layers).dropout(dropout).batch_first(true)));
            else if (st->cell == "lstm")
                stack.lstm = c.model.register_module(
                    name, torch::nn::LSTM(torch::nn::LSTMOptions(in, st->hidden).num_layers(st->layers).dropout(dropout).batch_first(true)));
            else
                stack.rnn = c.model.register_module(
                    name, torch::nn::RNN(torch::nn::RNNOptions(in, st->hidden).num_layers(st->layers).dropout(dropout).batch_first(true)));
        };
        make(st->forward, s.id);
        if (st->bidirectional)
            make(st->backward, s.id + "_reverse");
        s.state = std::move(st);
    }
    bool everyEntry(const GraphStep& s) const override { return s.as<RecurrentState>().every; }
    torch::Tensor run(const GraphStep& s, const torch::Tensor& x, const torch::Tensor& lengths) const override
    {
        const auto& st = s.as<RecurrentState>();
        if (x.size(1) == 0) { // one empty history: the modules take no empty sequence
            const int64_t width = st.hidden * (st.bidirectional ? 2 : 1);
            return st.every ? torch::zeros({x.size(0), 0, width}, x.options()) : torch::zeros({x.size(0), width}, x.options());
        }
        return runSequences(st, x, lengths);
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        const auto& st = s.as<RecurrentState>();
        const std::string v = ScriptPass::var(s);
        const PaddedScript q = p.padded(s, *in[0]);
        p.line(v + "_x = " + q.x);
        const std::string batch = v + "_n", width = v + "_w", lengths = v + "_lengths";
        p.line(batch + " = " + q.batch);
        p.line(width + " = " + q.width);
        p.line(lengths + " = " + q.lengths);
        auto run = [&](const Stack& stack, const std::string& x) {
            std::string params;
            for (const auto& w : stack.weights())
                params += (params.empty() ? "" : ", ") + p.self(w);
            const std::string h0 = "torch.zeros(" + std::to_string(st.layers) + ", " + batch + ", " +
                                   std::to_string(st.hidden) + ", device=" + q.device + ")";
            const std::string flags = ", [" + params + "], True, " + std::to_string(st.layers) + ", 0.0, False, False, True)[0]";
            if (st.cell == "lstm")
                return "torch.lstm(" + x + ", [" + h0 + ", " + h0 + "]" + flags;
            return std::string(st.cell == "gru" ? "torch.gru(" : "torch.rnn_tanh(") + x + ", " + h0 + flags;
        };
        p.line(v + "_f = " + run(st.forward, v + "_x"));
        p.line(v + "_ar = torch.arange(" + batch + ", device=" + q.device + ")");
        p.line(v + "_last = (" + lengths + " - 1).clamp(min=0)");
        p.line(v + "_any = (" + lengths + " > 0).float().unsqueeze(1)");
        const std::string last = "[" + v + "_ar, " + v + "_last] * " + v + "_any";
        std::string every = v + "_f", final = v + "_f" + last;
        if (st.bidirectional) {
            p.line(v + "_pos = torch.arange(" + width + ", device=" + q.device + ").unsqueeze(0)");
            p.line(v + "_len = " + lengths + ".unsqueeze(1)");
            p.line(v + "_rev = torch.where(" + v + "_pos < " + v + "_len, " + v + "_len - 1 - " + v + "_pos, " + v + "_pos)");
            const std::string gather = ".gather(1, " + v + "_rev.unsqueeze(2).expand(" + batch + ", " + width + ", ";
            p.line(v + "_b = " + run(st.backward, v + "_x" + gather + v + "_x.size(2)))"));
            every = "torch.cat([" + v + "_f, " + v + "_b" + gather + std::to_string(st.hidden) + "))], 2)";
            final = "torch.cat([" + v + "_f" + last + ", " + v + "_b" + last + "], 1)";
        }
        if (readsWords(s)) // a state per word stays per word, masked by the same word ids
            return {p.assign(s, st.every ? every : final).name, false, st.every ? in[0]->words : std::string()};
        return p.assign(s, st.every ? every + ".reshape(batch * width, -1)" : final);
    }
};

} // namespace

void addRecurrentKernels(KernelRegistry& r)
{
    r.add("recurrent", std::make_unique<RecurrentKernel>());
}

#endif

} // namespace reclab
