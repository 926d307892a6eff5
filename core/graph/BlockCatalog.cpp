#include "graph/BlockCatalog.h"

namespace reclab {

namespace {

using K = ValueKind;

const std::vector<std::string> kActivations = {"relu", "sigmoid", "tanh", "prelu", "dice", "none"};

ParamSpec intParam(const char* name, const char* label, int64_t value, int64_t lo, int64_t hi, const char* help)
{
    return {name, label, ParamKind::Int, value, double(lo), double(hi), {}, help};
}

ParamSpec layersParam(const char* name, const char* label, std::vector<int64_t> value, const char* help)
{
    return {name, label, ParamKind::IntList, value, 1, 65536, {}, help};
}

ParamSpec realParam(const char* name, const char* label, double value, double lo, double hi, const char* help)
{
    return {name, label, ParamKind::Real, value, lo, hi, {}, help};
}

ParamSpec choiceParam(const char* name, const char* label, const char* value, std::vector<std::string> choices,
                      const char* help)
{
    return {name, label, ParamKind::Choice, value, 0, 0, std::move(choices), help};
}

PortSpec floatIn(const char* name, const char* label) { return {name, label, {K::Float}}; }
PortSpec out(const char* label, K kind) { return {"out", label, {kind}}; }

BlockSpec input(const char* type, const char* name, const char* summary, const char* formula, K kind)
{
    return {type, name, "Inputs", summary, formula, {}, {out(name, kind)}, {}};
}

BlockSpec unary(const char* type, const char* name, const char* category, const char* summary, const char* formula,
                std::vector<ParamSpec> params = {})
{
    return {type, name, category, summary, formula, {floatIn("in", "x")}, {out("y", K::Float)}, std::move(params)};
}

BlockSpec binary(const char* type, const char* name, const char* summary, const char* formula)
{
    return {type, name, "Combine", summary, formula, {floatIn("a", "a"), floatIn("b", "b")}, {out("y", K::Float)}, {}};
}

std::vector<BlockSpec> buildCatalog()
{
    std::vector<BlockSpec> c;
    c.push_back(input("user_id", "User id", "The user of each row, as an index into the users.",
                      "u ∈ {0 … U−1}, shape B", K::Ids));
    c.push_back(input("item_id", "Item id", "The candidate item of each row, as an index into the items.",
                      "i ∈ {0 … I−1}, shape B", K::Ids));
    c.push_back(input("history", "Behaviour sequence",
                      "The items the user interacted with before this row, oldest first, with a mask of the real "
                      "entries (shorter histories are padded).",
                      "(i₁ … i_L) with mask m ∈ {0,1}^L, shape B×L", K::Ids));
    c.push_back(input("item_category", "Item category", "The categories (genres) of the candidate item, as a set.",
                      "G(i) ⊆ {0 … C−1}, shape B", K::Bag));
    c.push_back(input("history_category", "Category sequence",
                      "The categories of each behaviour in the sequence, with the sequence's mask.",
                      "(G(i₁) … G(i_L)), shape B×L", K::Bag));
    BlockSpec dense = input("dense_features", "Dense features",
                            "Numeric side features of the row, scaled to about [0, 1]: the user's age / 100, "
                            "gender (1 = female) and the item's year − 1900 over 100. Unknown values are 0.",
                            "x ∈ ℝ^F, shape B×F", K::Float);
    dense.params.push_back({"features", "Features", ParamKind::TextList, denseFeatureNames(), 0, 0, denseFeatureNames(),
                            "Which features, in order"});
    c.push_back(dense);

    c.push_back({"embedding", "Embedding", "Embeddings",
                 "Looks up a learned vector for every id; for a set of ids (categories), the mean of their vectors. "
                 "Blocks naming the same table share one set of weights.",
                 "e = W[id],  W ∈ ℝ^{V×d};  for a set S: e = (1/|S|) Σ_{j∈S} W[j]",
                 {{"ids", "ids", {K::Ids, K::Bag}}},
                 {out("vectors", K::Float)},
                 {intParam("dim", "Dimension", 16, 1, 65536, "d, the length of each vector"),
                  {"table", "Shared table", ParamKind::Name, "", 0, 0, {},
                   "Blocks with the same table name share their weights (empty: a table of its own)"},
                  realParam("init_std", "Initial std", 0.01, 0, 10, "Weights start as N(0, std²); 0 starts at zero"),
                  choiceParam("regularizer", "Regulariser", "none", {"none", "batch", "mini_batch_aware"},
                              "batch: l2 · mean over the batch of ‖e‖²; mini_batch_aware: l2/2 · Σ over the batch's "
                              "distinct ids of ‖W[j]‖²/n_j (Zhou et al. 2018)"),
                  realParam("l2_scale", "L2 scale", 1.0, 0, 1000, "Multiplies the run's l2 for this table")}});

    c.push_back(unary("linear", "Linear", "Layers", "A fully connected layer.", "y = W x + b,  W ∈ ℝ^{out×in}",
                      {intParam("units", "Units", 1, 1, 65536, "out, the output width"),
                       {"bias", "Bias", ParamKind::Bool, true, 0, 0, {}, "Add a learned bias b"}}));
    c.push_back(unary("mlp", "MLP", "Layers", "A tower of fully connected layers, each followed by the activation.",
                      "h₀ = x,  h_k = act(W_k h_{k−1} + b_k),  y = h_K",
                      {layersParam("layers", "Layer sizes", {64, 32}, "The width of each layer, in order"),
                       choiceParam("activation", "Activation", "relu", kActivations, "After every layer"),
                       realParam("dropout", "Dropout", 0.0, 0, 0.99, "Dropout after every layer while training")}));
    c.push_back(unary("relu", "ReLU", "Activations", "Rectified linear unit.", "y = max(0, x)"));
    c.push_back(unary("sigmoid", "Sigmoid", "Activations", "Logistic function.", "y = 1 / (1 + e^{−x})"));
    c.push_back(unary("tanh", "Tanh", "Activations", "Hyperbolic tangent.", "y = tanh(x)"));
    c.push_back(unary("prelu", "PReLU", "Activations", "ReLU with a learned slope for negatives, per channel.",
                      "y = max(0, x) + a · min(0, x)"));
    c.push_back(unary("dice", "Dice", "Activations",
                      "Data-adaptive activation of DIN: a soft switch around the batch mean (Zhou et al. 2018).",
                      "p = σ((x − E[x]) / √(Var[x] + ε)),  y = p · x + (1 − p) · a · x"));
    c.push_back(unary("dropout", "Dropout", "Layers", "Zeroes entries at random while training (scaling the rest).",
                      "y = x · m / (1 − p),  m ~ Bernoulli(1 − p); y = x in evaluation",
                      {realParam("p", "Drop probability", 0.5, 0, 0.99, "p")}));
    c.push_back(unary("batch_norm", "BatchNorm", "Layers", "Normalises each channel over the batch.",
                      "y = γ (x − E[x]) / √(Var[x] + ε) + β"));

    c.push_back(binary("product", "Element-wise product",
                       "Multiplies two vectors entry by entry (GMF's interaction). A vector meets every entry of a "
                       "sequence.",
                       "y = a ⊙ b"));
    c.push_back(binary("add", "Add", "Adds two vectors entry by entry.", "y = a + b"));
    c.push_back(binary("dot", "Dot product", "The inner product of two vectors (MF's interaction).", "y = aᵀ b"));
    c.push_back({"concat", "Concatenation", "Combine",
                 "Joins vectors end to end. A vector joined with a sequence is repeated along it.",
                 "y = [x₁; x₂; …; x_N]",
                 {floatIn("in1", "x₁"), floatIn("in2", "x₂")},
                 {out("y", K::Float)},
                 {intParam("inputs", "Inputs", 2, 2, 8, "N, the number of inputs")}});

    c.push_back({"sum_pool", "Sum pooling", "Pooling", "Adds the vectors of a sequence's real entries.",
                 "y = Σ_l m_l x_l", {floatIn("in", "sequence")}, {out("y", K::Float)}, {}});
    c.push_back({"mean_pool", "Mean pooling", "Pooling", "Averages the vectors of a sequence's real entries.",
                 "y = Σ_l m_l x_l / Σ_l m_l", {floatIn("in", "sequence")}, {out("y", K::Float)}, {}});
    c.push_back({"din_attention", "DIN attention", "Pooling",
                 "DIN's local activation unit: an MLP scores each behaviour against the candidate, and the "
                 "behaviours are summed with these weights (no softmax, so the total keeps the strength of "
                 "interest; Zhou et al. 2018).",
                 "w_l = MLP([h_l; t; h_l − t; h_l ⊙ t]),  y = Σ_l m_l w_l h_l",
                 {floatIn("keys", "behaviours h"), floatIn("query", "candidate t")},
                 {out("pooled", K::Float)},
                 {layersParam("layers", "Unit layer sizes", {80, 40}, "Hidden widths of the unit (then one output)"),
                  choiceParam("activation", "Activation", "dice", kActivations, "In the unit's hidden layers")}});

    c.push_back({"click_output", "Click output", "Outputs",
                 "A click logit per row, trained with binary cross-entropy (implicit feedback with sampled "
                 "negatives, or click-through labels).",
                 "p = σ(z),  loss = −[y log p + (1 − y) log(1 − p)]",
                 {floatIn("logit", "z")}, {}, {}});
    c.push_back({"rating_output", "Rating output", "Outputs",
                 "A predicted rating per row, trained with squared error.", "r̂ = z (+ μ),  loss = (r − r̂)²",
                 {floatIn("value", "z")}, {},
                 {{"add_global_mean", "Add global mean", ParamKind::Bool, true, 0, 0, {},
                   "Add μ, the mean training rating"}}});
    return c;
}

} // namespace

const ParamSpec* BlockSpec::param(const std::string& name) const
{
    for (const auto& p : params)
        if (p.name == name)
            return &p;
    return nullptr;
}

const std::vector<std::string>& denseFeatureNames()
{
    static const std::vector<std::string> names = {"user_age", "user_gender", "item_year"};
    return names;
}

const std::vector<BlockSpec>& blockCatalog()
{
    static const std::vector<BlockSpec> catalog = buildCatalog();
    return catalog;
}

const BlockSpec* findBlock(const std::string& type)
{
    for (const auto& b : blockCatalog())
        if (b.type == type)
            return &b;
    return nullptr;
}

std::vector<PortSpec> inputPortsOf(const BlockSpec& spec, const nlohmann::json& params)
{
    if (spec.type != "concat")
        return spec.inputs;
    int64_t n = 2;
    if (const auto it = params.find("inputs"); it != params.end() && it->is_number_integer())
        n = std::clamp<int64_t>(it->get<int64_t>(), 2, 8);
    std::vector<PortSpec> ports;
    for (int64_t k = 1; k <= n; ++k) {
        const std::string name = "in" + std::to_string(k);
        ports.push_back({name, "x" + std::to_string(k), {ValueKind::Float}});
    }
    return ports;
}

std::string valueKindName(ValueKind kind)
{
    switch (kind) {
    case ValueKind::Ids: return "ids";
    case ValueKind::Bag: return "category sets";
    case ValueKind::Float: return "vectors";
    }
    return "?";
}

} // namespace reclab
