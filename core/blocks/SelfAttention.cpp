// Self-attention over a sequence: learned position embeddings, and a Transformer encoder layer
// (multi-head self-attention with padding and causal masks, then a position-wise feed-forward
// network, each with dropout, a residual and LayerNorm: the post-LN layer of SASRec as RecBole
// builds it). Masked scores get a large negative number rather than −∞, so a row whose keys
// are all masked softmaxes to finite weights, never NaN; padded rows are dropped afterwards.
#include "blocks/BlockHalves.h"

#ifdef RECLAB_BLOCK_KERNELS
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <iomanip>
#include <sstream>
#endif

namespace reclab {

#ifndef RECLAB_BLOCK_KERNELS

void defineSelfAttentionBlocks(BlockRegistry& r)
{
    BlockDefinition position;
    position.spec = {"position_embedding", "Position embedding", "Sequence",
                     "Adds a learned vector for each entry's place in the sequence, counted back from the latest "
                     "(the latest entry is place 0, so it is the same place in every history and window). Entries "
                     "further back than the table share its last row.",
                     "y_t = x_t + P_{len − 1 − t},  P ∈ ℝ^{M×d}",
                     {floatIn("in", "sequence")},
                     {out("y", ValueKind::Float)},
                     {intParam("max_length", "Places", 50, 1, 100000, "M, the rows of the table")}};
    position.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        if (!c.vectors(0) || !sequenceInput(c, 0))
            return std::nullopt;
        c.parameters = c.params["max_length"].get<int64_t>() * c.in[0].width;
        return c.in[0];
    };
    r.add(std::move(position));

    BlockDefinition layer;
    layer.spec = {"transformer_layer", "Transformer layer", "Sequence",
                  "A Transformer encoder layer over the sequence: each entry attends to the real entries (with "
                  "Causal, only to itself and earlier ones, as next-item prediction needs), then a feed-forward "
                  "network; each part adds its input back and is normalised (post-LN, as SASRec in RecBole).",
                  "A = softmax(Q Kᵀ / √(d/h) + M) V per head,  Q, K, V = x W_q, x W_k, x W_v\n"
                  "x′ = LN(x + drop(A W_o)),  y = LN(x′ + drop(W₂ act(W₁ x′ + b₁) + b₂))\n"
                  "M = −10⁹ on padding keys (and later entries when causal), else 0",
                  {floatIn("in", "sequence")},
                  {out("y", ValueKind::Float)},
                  {intParam("heads", "Heads", 2, 1, 64, "h; the width must divide by it"),
                   intParam("inner", "Inner size", 256, 1, 65536, "The feed-forward network's hidden width"),
                   realParam("dropout", "Dropout", 0.2, 0, 0.99, "On the attention weights, and after each part while training"),
                   choiceParam("activation", "Activation", "gelu", {"gelu", "relu"}, "In the feed-forward network"),
                   boolParam("causal", "Causal", true, "Each entry sees only itself and earlier entries")}};
    layer.shape = [](ShapeContext& c) -> std::optional<ValueType> {
        if (!c.vectors(0) || !sequenceInput(c, 0))
            return std::nullopt;
        const int64_t d = c.in[0].width, heads = c.params["heads"].get<int64_t>(), inner = c.params["inner"].get<int64_t>();
        if (d % heads != 0)
            return c.fail("in", "width " + std::to_string(d) + " does not divide into " + std::to_string(heads) + " heads");
        c.parameters = 4 * (d * d + d) + 2 * d * inner + inner + d + 4 * d;
        c.widest = std::max(c.widest, std::max(inner, 3 * d));
        return c.in[0];
    };
    layer.traits.attendsWithinSequence = true;
    r.add(std::move(layer));
}

#else // the LibTorch half

namespace {

// Places counted back from each row's latest entry, clamped to the table: [rows, L].
torch::Tensor placesFromLatest(const torch::Tensor& lengths, int64_t L, int64_t places)
{
    const auto pos = torch::arange(L, lengths.options()).unsqueeze(0);
    return (lengths.unsqueeze(1) - 1 - pos).clamp(0, places - 1);
}

class PositionKernel : public BlockKernel {
    struct State : StepState {
        torch::Tensor table; // [M, d]
    };

public:
    void compile(CompileContext& c, GraphStep& s) const override
    {
        auto st = std::make_unique<State>();
        torch::NoGradGuard noGrad;
        st->table = c.model.register_parameter(s.id + "_places",
                                               torch::randn({s.params["max_length"].get<int64_t>(), s.inputTypes[0].width}) * 0.02);
        s.state = std::move(st);
    }
    BatchValue forward(BatchPass& p, GraphStep& s, const Inputs<BatchValue>& in) const override
    {
        const auto& table = s.as<State>().table;
        const auto places = placesFromLatest(p.lengths, p.batch.history.size(1), table.size(0)).reshape({-1}).index_select(0, p.flat);
        BatchValue out;
        out.sequence = true;
        out.rows = in[0]->materialise() + table.index_select(0, places);
        return out;
    }
    SharedValue scoreShared(SharedPass&, GraphStep& s, const Inputs<SharedValue>& in) const override
    {
        const auto& table = s.as<State>().table;
        const auto& x = in[0]->t;
        const auto places = placesFromLatest(lengthOfOne(x), x.size(0), table.size(0)).squeeze(0);
        return {x + table.index_select(0, places), {}};
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        const auto& table = s.as<State>().table;
        const std::string v = ScriptPass::var(s);
        p.line(v + "_places = (history_length.unsqueeze(1) - 1 - torch.arange(width, device=history.device).unsqueeze(0))"
                   ".clamp(0, " + std::to_string(table.size(0) - 1) + ").reshape(-1)");
        return p.assign(s, in[0]->name + " + " + p.self(table) + ".index_select(0, " + v + "_places)");
    }
};

struct LayerModules : StepState {
    torch::nn::Linear project{nullptr}, output{nullptr}, inner{nullptr}, outer{nullptr};
    torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
    int64_t heads = 1;
    double dropout = 0;
    bool gelu = true, causal = true;
};

// The layer over right-padded sequences x [B, L, d] of these lengths: [B, L, d]; the heads'
// weights [B, heads, L, L] into weightsOut when given.
torch::Tensor encode(const LayerModules& m, const torch::Tensor& x, const torch::Tensor& lengths, bool training,
                     torch::Tensor* weightsOut = nullptr)
{
    const int64_t B = x.size(0), L = x.size(1), d = x.size(2), dh = d / m.heads;
    const auto qkv = m.project.ptr()->forward(x).view({B, L, 3, m.heads, dh}).permute({2, 0, 3, 1, 4}); // [3, B, h, L, dh]
    const auto q = qkv[0], k = qkv[1], v = qkv[2];
    const auto pos = torch::arange(L, lengths.options());
    auto allowed = (pos.unsqueeze(0) < lengths.unsqueeze(1)).view({B, 1, 1, L}); // real keys
    if (m.causal)
        allowed = allowed & (pos.unsqueeze(0) <= pos.unsqueeze(1)).view({1, 1, L, L});
    auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(dh));
    scores = scores.masked_fill(allowed.logical_not(), -1e9);
    auto weights = torch::softmax(scores, -1);
    if (weightsOut)
        *weightsOut = weights;
    weights = torch::dropout(weights, m.dropout, training);
    const auto attended = torch::matmul(weights, v).permute({0, 2, 1, 3}).reshape({B, L, d});
    const auto x1 = m.norm1.ptr()->forward(x + torch::dropout(m.output.ptr()->forward(attended), m.dropout, training));
    auto hidden = m.inner.ptr()->forward(x1);
    hidden = m.gelu ? torch::gelu(hidden) : torch::relu(hidden);
    return m.norm2.ptr()->forward(x1 + torch::dropout(m.outer.ptr()->forward(hidden), m.dropout, training));
}

class TransformerKernel : public BlockKernel {
public:
    void compile(CompileContext& c, GraphStep& s) const override
    {
        auto m = std::make_unique<LayerModules>();
        const auto& p = s.params;
        const int64_t d = s.inputTypes[0].width, inner = p["inner"].get<int64_t>();
        auto holder = std::make_shared<torch::nn::Module>();
        m->project = holder->register_module("project", torch::nn::Linear(d, 3 * d));
        m->output = holder->register_module("output", torch::nn::Linear(d, d));
        m->norm1 = holder->register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(1e-12)));
        m->inner = holder->register_module("inner", torch::nn::Linear(d, inner));
        m->outer = holder->register_module("outer", torch::nn::Linear(inner, d));
        m->norm2 = holder->register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(1e-12)));
        c.model.register_module(s.id, holder);
        m->heads = p["heads"].get<int64_t>();
        m->dropout = p["dropout"].get<double>();
        m->gelu = p["activation"] == "gelu";
        m->causal = p["causal"].get<bool>();
        s.state = std::move(m);
    }
    BatchValue forward(BatchPass& p, GraphStep& s, const Inputs<BatchValue>& in) const override
    {
        BatchValue out;
        out.sequence = true;
        out.rows = p.packed(encode(s.as<LayerModules>(), p.padded(in[0]->materialise()), p.lengths, p.training));
        return out;
    }
    HistoryFlags planHistory(HistoryPlan& p, const GraphStep&, const Inputs<HistoryFlags>& in) const override
    {
        p.ok = p.ok && in[0]->sequence;
        return {true, in[0]->user, true};
    }
    SharedValue scoreShared(SharedPass& p, GraphStep& s, const Inputs<SharedValue>& in) const override
    {
        const auto& x = in[0]->t;
        if (x.size(0) == 0)
            return {x, {}};
        const auto lengths = lengthOfOne(x);
        torch::Tensor weights;
        const auto y = encode(s.as<LayerModules>(), x.unsqueeze(0), lengths, false, p.maps ? &weights : nullptr).squeeze(0);
        if (p.maps)
            for (int64_t h = 0; h < weights.size(1); ++h)
                p.maps->push_back({s.id, "head " + std::to_string(h + 1), weights[0][h]}); // [L, L]
        return {y, {}};
    }
    ScriptValue script(ScriptPass& p, GraphStep& s, const Inputs<ScriptValue>& in) const override
    {
        auto& m = s.as<LayerModules>();
        const std::string v = ScriptPass::var(s);
        const int64_t d = m.output->options.in_features(), dh = d / m.heads;
        const std::string heads = std::to_string(m.heads), width = std::to_string(d);
        auto norm = [&](const std::string& x, torch::nn::LayerNorm& n) {
            return "torch.layer_norm(" + x + ", [" + width + "], " + p.self(n->weight) + ", " + p.self(n->bias) + ", 1e-12)";
        };
        p.line(v + "_x = " + in[0]->name + ".view(batch, width, " + width + ")");
        p.line(v + "_qkv = (" + p.linear(v + "_x", *m.project) + ").view(batch, width, 3, " + heads + ", " + std::to_string(dh) +
               ").permute(2, 0, 3, 1, 4)");
        p.line(v + "_pos = torch.arange(width, device=history.device)");
        std::string allowed = "(" + v + "_pos.unsqueeze(0) < history_length.unsqueeze(1)).view(batch, 1, 1, width)";
        if (m.causal)
            allowed += " & (" + v + "_pos.unsqueeze(0) <= " + v + "_pos.unsqueeze(1)).view(1, 1, width, width)";
        std::ostringstream scale;
        scale << std::setprecision(17) << std::sqrt(static_cast<double>(dh));
        p.line(v + "_s = torch.matmul(" + v + "_qkv[0], " + v + "_qkv[1].transpose(-2, -1)) / " + scale.str());
        p.line(v + "_s = " + v + "_s.masked_fill((" + allowed + ").logical_not(), -1e9)");
        p.line(v + "_a = torch.matmul(torch.softmax(" + v + "_s, -1), " + v + "_qkv[2]).permute(0, 2, 1, 3).reshape(batch, width, " +
               width + ")");
        p.line(v + "_x = " + norm(v + "_x + " + p.linear(v + "_a", *m.output), m.norm1));
        const std::string hidden = p.linear(v + "_x", *m.inner);
        p.line(v + "_h = " + (m.gelu ? "torch.gelu(" + hidden + ")" : "torch.relu(" + hidden + ")"));
        p.line(v + "_x = " + norm(v + "_x + " + p.linear(v + "_h", *m.outer), m.norm2));
        return p.assign(s, v + "_x.reshape(batch * width, " + width + ")");
    }
};

} // namespace

void addSelfAttentionKernels(KernelRegistry& r)
{
    r.add("position_embedding", std::make_unique<PositionKernel>());
    r.add("transformer_layer", std::make_unique<TransformerKernel>());
}

#endif

} // namespace reclab
