// Convolution over a sequence: 1-D filters sliding along the behaviours (Caser's horizontal
// filters of several heights with max-pooling over time, or a causal convolution returning a
// state per entry for a network that goes on reading the sequence), and Caser's vertical
// filters (each a learned weighted sum of the latest entries). A filter never reads past an
// entry's own place, entries before the sequence (or outside the span) read as zeros, padding
// after the latest entry is never read, and a row without behaviours gives zeros.
#include "blocks/BlockHalves.h"

#ifdef RECLAB_BLOCK_KERNELS
#include <torch/nn/modules/conv.h>
#endif

namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

void defineConvolutionBlocks(BlockRegistry& r)
{
    BlockDefinition conv;
    conv.spec = {"conv1d", "1-D convolution", "Sequence",
                 "Filters of each height slide along the sequence, each reading an entry and the ones before it "
                 "(entries before the start read as zeros). Max over time keeps each filter's strongest match: "
                 "Caser's horizontal filters, over the latest Span entries when Span is set; over a text's word "
                 "vectors, heights 2, 3, 4 make Kim's text CNN (n-gram detectors). Every entry returns each entry's "
                 "filter outputs, for a network that reads on (a recurrent layer after it).",
                 "c^{(h)}_t = act(Σ_{k<h} W^{(h)}_k x_{t−k} + b^{(h)}),  W^{(h)} ∈ ℝ^{C×h×d}\n"
                 "max: y = [max_t c^{(h)}_t]_h ∈ ℝ^{C·|heights|} (t over windows inside the read entries)\n"
                 "every: y_t = [c^{(h)}_t]_h",
                 {sequenceIn()},
                 {out("y", ValueKind::Float)},
                 {layersParam("heights", "Heights", {3}, "The filter heights (entries each filter reads), one bank per height"),
                  intParam("channels", "Filters per height", 32, 1, 4096, "C, the filters of each height"),
                  choiceParam("activation", "Activation", "relu", {"relu", "tanh", "sigmoid", "none"}, "After each filter"),
                  choiceParam("output", "Output", "max", {"max", "every"},
                              "max: each filter's largest output over time (B×C·|heights|); every: a state per entry (B×L×C·|heights|)"),
                  intParam("span", "Span", 0, 0, 100000,
                           "Read only the latest this many entries, zero-filled when the history is shorter (Caser's L); "
                           "0: the whole sequence. Only with max over time")}};
    conv.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        if (!readsSequence(c, 0))
            return std::nullopt;
        const bool every = c.params["output"] == "every";
        if (every && c.params["span"].get<int64_t>() > 0)
            return c.fail("", "a span reads only the latest entries, which needs max over time; set Span to 0 for every entry");
        const auto heights = c.params["heights"].get<std::vector<int64_t>>();
        if (heights.empty())
            return c.fail("", "give at least one filter height");
        const int64_t channels = c.params["channels"].get<int64_t>(), d = c.in[0].width;
        for (const int64_t h : heights)
            c.parameters += channels * (h * d + 1);
        const int64_t width = channels * static_cast<int64_t>(heights.size());
        c.widest = std::max(c.widest, width);
        return sequenceOutput(c, 0, every, width);
    };
    r.add(std::move(conv));

    BlockDefinition vertical;
    vertical.spec = {"vertical_conv", "Vertical convolution", "Sequence",
                     "Caser's vertical filters: each is a learned weighted sum of the latest Span entries (zeros where "
                     "the history is shorter), a union of the previous items' vectors; the filters' sums are "
                     "concatenated.",
                     "y_v = Σ_{j<L} w_{v,j} x_{len−L+j} + b_v ∈ ℝ^d (x_t = 0 for t < 0),  y = [y_1 … y_{n_v}] ∈ ℝ^{n_v·d}",
                     {floatIn("in", "sequence")},
                     {out("y", ValueKind::Float)},
                     {intParam("filters", "Filters", 4, 1, 1024, "n_v"),
                      intParam("span", "Span", 5, 1, 100000, "L, the latest entries each filter weighs")}};
    vertical.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        if (!c.vectors(0) || !sequenceInput(c, 0))
            return std::nullopt;
        const int64_t n = c.params["filters"].get<int64_t>();
        c.parameters = n * (c.params["span"].get<int64_t>() + 1);
        return ValueType{ValueKind::Float, "", false, n * c.in[0].width};
    };
    r.add(std::move(vertical));
}

#else // the LibTorch half

namespace {

// The latest `span` entries of right-padded sequences x [B, L, d] of these lengths, oldest
// first, zeros where a history is shorter: [B, span, d].
torch::Tensor latestEntries(const torch::Tensor& x, const torch::Tensor& lengths, int64_t span)
{
    const auto pos = lengths.unsqueeze(1) - span + torch::arange(span, lengths.options()).unsqueeze(0);
    const auto valid = (pos >= 0).unsqueeze(2).to(x.scalar_type());
    if (x.size(1) == 0)
        return torch::zeros({x.size(0), span, x.size(2)}, x.options());
    const auto index = pos.clamp(0, x.size(1) - 1).unsqueeze(2).expand({x.size(0), span, x.size(2)});
    return x.gather(1, index) * valid;
}

// The same in TorchScript, for q's padded sequences.
std::string latestEntriesScript(ScriptPass& p, const std::string& v, const PaddedScript& q, int64_t span)
{
    const std::string s = std::to_string(span);
    p.line(v + "_pos = " + q.lengths + ".unsqueeze(1) - " + s + " + torch.arange(" + s + ", device=" + q.device + ").unsqueeze(0)");
    p.line(v + "_seq = " + q.x);
    p.line(v + "_win = " + v + "_seq.gather(1, " + v + "_pos.clamp(0, " + q.width + " - 1).unsqueeze(2).expand(" + q.batch +
           ", " + s + ", " + v + "_seq.size(2))) * (" + v + "_pos >= 0).float().unsqueeze(2)");
    return v + "_win";
}

torch::Tensor activate(const std::string& name, const torch::Tensor& x)
{
    return name == "relu" ? torch::relu(x) : name == "tanh" ? torch::tanh(x) : name == "sigmoid" ? torch::sigmoid(x) : x;
}

std::string activateScript(const std::string& name, const std::string& x)
{
    return name == "none" ? x : "torch." + name + "(" + x + ")";
}

struct ConvState : StepState {
    std::vector<torch::nn::Conv1d> banks; // one per height
    std::vector<int64_t> heights;
    std::string activation;
    bool every = false;
    int64_t span = 0;
};

// Each window's end t counts when it lies inside the read entries [0, n) and starts there
// too, or, when fewer than h entries were read, ends at the latest: [rows, L] of 0/1.
torch::Tensor windowEnds(const torch::Tensor& n, int64_t L, int64_t h)
{
    const auto t = torch::arange(L, n.options()).unsqueeze(0);
    const auto first = torch::minimum(n - 1, torch::full_like(n, h - 1)).unsqueeze(1);
    return (t < n.unsqueeze(1)) & (t >= first);
}

// The block over right-padded sequences x [B, L, d]: [B, L, C·H] (every) or [B, C·H] (max).
torch::Tensor convolve(const ConvState& st, torch::Tensor x, const torch::Tensor& lengths)
{
    torch::Tensor read = lengths; // entries read per row
    if (st.span > 0) {
        x = latestEntries(x, lengths, st.span);
        read = torch::full_like(lengths, st.span);
    }
    if (x.size(1) == 0) { // no entries at all (one empty history)
        const int64_t width = st.banks.front()->weight.size(0) * static_cast<int64_t>(st.banks.size());
        return st.every ? torch::zeros({x.size(0), 0, width}, x.options()) : torch::zeros({x.size(0), width}, x.options());
    }
    const auto channelsFirst = x.transpose(1, 2); // [B, d, L]
    std::vector<torch::Tensor> outs;
    for (size_t k = 0; k < st.banks.size(); ++k) {
        const int64_t h = st.heights[k];
        auto c = activate(st.activation, torch::conv1d(torch::constant_pad_nd(channelsFirst, {h - 1, 0}), st.banks[k]->weight, st.banks[k]->bias));
        if (!st.every) {
            const auto ends = windowEnds(read, x.size(1), h).unsqueeze(1);
            const auto lowest = torch::full({}, -std::numeric_limits<float>::infinity(), c.options());
            c = std::get<0>(torch::where(ends, c, lowest).max(2));
        }
        outs.push_back(c);
    }
    if (st.every)
        return torch::cat(outs, 1).transpose(1, 2);
    // masked_fill, not a product: a row without entries holds −∞ here.
    return torch::cat(outs, 1).masked_fill((lengths == 0).unsqueeze(1), 0.0);
}

class ConvKernel : public PaddedSequenceKernel {
public:
    void compile(CompileContext& c, GraphStep& s) const override
    {
        auto st = std::make_unique<ConvState>();
        st->heights = s.params["heights"].get<std::vector<int64_t>>();
        st->activation = s.params["activation"].get<std::string>();
        st->every = s.params["output"] == "every";
        st->span = s.params["span"].get<int64_t>();
        const int64_t channels = s.params["channels"].get<int64_t>();
        for (size_t k = 0; k < st->heights.size(); ++k) { // <id>_h<height>, then _2, _3 … for a repeated height
            const int64_t h = st->heights[k];
            const auto before = std::count(st->heights.begin(), st->heights.begin() + static_cast<long>(k), h);
            st->banks.push_back(c.model.register_module(
                s.id + "_h" + std::to_string(h) + (before ? "_" + std::to_string(before + 1) : ""),
                torch::nn::Conv1d(torch::nn::Conv1dOptions(s.inputTypes[0].width, channels, h))));
        }
        s.state = std::move(st);
    }
    bool everyEntry(const GraphStep& s) const override { return s.as<ConvState>().every; }
    torch::Tensor run(const GraphStep& s, const torch::Tensor& x, const torch::Tensor& lengths) const override
    {
        return convolve(s.as<ConvState>(), x, lengths);
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        const auto& st = s.as<ConvState>();
        const std::string v = ScriptPass::var(s);
        const PaddedScript q = p.padded(s, *in[0]);
        std::string x = q.x, read = q.lengths, L = q.width;
        if (st.span > 0) {
            x = latestEntriesScript(p, v, q, st.span);
            read = "torch.full_like(" + q.lengths + ", " + std::to_string(st.span) + ")";
            L = std::to_string(st.span);
        }
        p.line(v + "_x = " + x + ".transpose(1, 2)");
        p.line(v + "_n = " + read);
        p.line(v + "_t = torch.arange(" + L + ", device=" + q.device + ").unsqueeze(0)");
        std::string parts;
        for (size_t k = 0; k < st.banks.size(); ++k) {
            const std::string h = std::to_string(st.heights[k]), c = v + "_c" + std::to_string(k);
            p.line(c + " = " + activateScript(st.activation, "torch.conv1d(torch.constant_pad_nd(" + v + "_x, [" + h +
                                                                 " - 1, 0], 0.0), " + p.self(st.banks[k]->weight) + ", " +
                                                                 p.self(st.banks[k]->bias) + ")"));
            if (!st.every) {
                p.line(c + "_ends = (" + v + "_t < " + v + "_n.unsqueeze(1)) & (" + v + "_t >= torch.clamp(" + v + "_n - 1, max=" +
                       h + " - 1).unsqueeze(1))");
                p.line(c + " = torch.where(" + c + "_ends.unsqueeze(1), " + c + ", torch.full_like(" + c +
                       ", -float('inf'))).max(2)[0]");
            }
            parts += (parts.empty() ? "" : ", ") + c;
        }
        if (st.every && readsWords(s)) // a state per word stays per word, masked by the same word ids
            return {p.assign(s, "torch.cat([" + parts + "], 1).transpose(1, 2)").name, false, in[0]->words};
        if (st.every)
            return p.assign(s, "torch.cat([" + parts + "], 1).transpose(1, 2).reshape(batch * width, -1)");
        return p.assign(s, "torch.cat([" + parts + "], 1).masked_fill((" + q.lengths + " == 0).unsqueeze(1), 0.0)");
    }
};

struct VerticalState : StepState {
    torch::Tensor weight, bias; // [n_v, L], [n_v]
};

// Vertical filters over sequences x [B, L, d]: [B, n_v · d].
torch::Tensor vertical(const VerticalState& st, const torch::Tensor& x, const torch::Tensor& lengths)
{
    const auto window = latestEntries(x, lengths, st.weight.size(1));
    const auto y = torch::matmul(st.weight, window) + st.bias.view({1, -1, 1}); // [B, n_v, d]
    return y.reshape({x.size(0), -1}) * (lengths > 0).to(x.scalar_type()).unsqueeze(1);
}

class VerticalKernel : public PaddedSequenceKernel {
public:
    void compile(CompileContext& c, GraphStep& s) const override
    {
        auto st = std::make_unique<VerticalState>();
        const int64_t n = s.params["filters"].get<int64_t>(), span = s.params["span"].get<int64_t>();
        const double bound = 1.0 / std::sqrt(static_cast<double>(span)); // as a Conv2d of one input channel
        torch::NoGradGuard noGrad;
        st->weight = c.model.register_parameter(s.id + "_weight", torch::empty({n, span}).uniform_(-bound, bound));
        st->bias = c.model.register_parameter(s.id + "_bias", torch::empty({n}).uniform_(-bound, bound));
        s.state = std::move(st);
    }
    bool everyEntry(const GraphStep&) const override { return false; }
    torch::Tensor run(const GraphStep& s, const torch::Tensor& x, const torch::Tensor& lengths) const override
    {
        return vertical(s.as<VerticalState>(), x, lengths);
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        const auto& st = s.as<VerticalState>();
        const std::string v = ScriptPass::var(s);
        const std::string window = latestEntriesScript(p, v, p.padded(s, *in[0]), st.weight.size(1));
        return p.assign(s, "(torch.matmul(" + p.self(st.weight) + ", " + window + ") + " + p.self(st.bias) +
                               ".view(1, -1, 1)).reshape(batch, -1) * (history_length > 0).float().unsqueeze(1)");
    }
};

} // namespace

void addConvolutionKernels(KernelRegistry& r)
{
    r.add("conv1d", std::make_unique<ConvKernel>());
    r.add("vertical_conv", std::make_unique<VerticalKernel>());
}

#endif

} // namespace reclab
