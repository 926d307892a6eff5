#include "compiled/FusedStep.h"

#include "compiled/BlockKernel.h"
#include "compiled/Gemm.h"
#include "compiled/GraphModule.h"

#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>

namespace reclab {

namespace {

enum class Kind { Ids, Embed, Product, Add, Dot, Concat, Dense, Output };
enum class Act { None, Relu, Tanh, Sigmoid };

Act actNamed(const std::string& name, bool* known)
{
    *known = true;
    if (name == "relu")
        return Act::Relu;
    if (name == "tanh")
        return Act::Tanh;
    if (name == "sigmoid")
        return Act::Sigmoid;
    *known = name == "none" || name.empty();
    return Act::None;
}

float* data(std::vector<float>& v, size_t n)
{
    if (v.size() < n)
        v.resize(n);
    return v.data();
}

} // namespace

struct FusedStep::Node {
    Kind kind = Kind::Ids;
    std::vector<size_t> in;
    int64_t width = 0;
    bool user = false;             // Ids: the batch's users (else its items)
    int64_t vocab = 0;             // Embed: rows of the table
    const int64_t* ids = nullptr;  // Ids: this batch's
    torch::Tensor weight, bias;    // Embed: the table; Dense: W [out, in], b [out] (or undefined)
    double l2 = 0;                 // Embed: the batch regulariser's l2 · scale (0: none)
    Act act = Act::None;           // Dense
    int consumers = 0;             // nodes reading this one (gradients are added past the first)
    std::vector<float> value, grad;
};

FusedStep::~FusedStep() = default;

std::unique_ptr<FusedStep> FusedStep::plan(GraphModelImpl& model, double l2, std::string* why)
{
    auto refuse = [&](const std::string& reason) -> std::unique_ptr<FusedStep> {
        if (why)
            *why = reason;
        return nullptr;
    };
    if (const char* off = std::getenv("RECLAB_AUTOGRAD_STEPS"); off && std::string(off) == "1")
        return refuse("RECLAB_AUTOGRAD_STEPS=1 asks for autograd");
    const GraphAnalysis& a = model.analysis();
    if (a.usesHistory || a.nextItems)
        return refuse("the graph reads a history or predicts next items");
    std::map<std::string, std::shared_ptr<torch::nn::Module>> modules;
    for (const auto& item : model.named_children())
        modules[item.key()] = item.value();

    std::unique_ptr<FusedStep> f(new FusedStep());
    std::vector<size_t> nodeOf(model.steps().size(), SIZE_MAX); // step index → its (last) node
    bool sawOutput = false;
    for (const auto& sp : model.steps()) {
        const GraphStep& s = *sp;
        if (sawOutput)
            return refuse("block '" + s.id + "' comes after the output");
        std::vector<size_t> in;
        for (const size_t i : s.inputs) {
            if (nodeOf[i] == SIZE_MAX)
                return refuse("block '" + s.id + "' reads a value the plan has not made");
            in.push_back(nodeOf[i]);
        }
        auto add = [&](Node n) {
            for (const size_t i : n.in)
                ++f->nodes_[i].consumers;
            f->nodes_.push_back(std::move(n));
            return f->nodes_.size() - 1;
        };
        auto widthOf = [&](size_t k) { return f->nodes_[in[k]].width; };
        Node n;
        n.in = in;
        if (s.type == "user_id" || s.type == "item_id") {
            n.kind = Kind::Ids;
            n.user = s.type == "user_id";
        } else if (s.type == "embedding") {
            const std::string vocab = s.params.value("ids_vocab", "");
            if (in.size() != 1 || f->nodes_[in[0]].kind != Kind::Ids || vocab != (f->nodes_[in[0]].user ? "user" : "item"))
                return refuse("embedding '" + s.id + "' looks up other than user or item ids");
            const std::string reg = s.params.value("regularizer", "none");
            if (reg != "none" && reg != "batch")
                return refuse("embedding '" + s.id + "' has the " + reg + " regulariser");
            const std::string table = s.params.value("table", "").empty() ? s.id : s.params["table"].get<std::string>();
            const auto* e = modules.count(table) ? modules[table]->as<torch::nn::EmbeddingImpl>() : nullptr;
            if (!e)
                return refuse("embedding '" + s.id + "' has no table");
            n.kind = Kind::Embed;
            n.weight = e->weight;
            n.vocab = e->weight.size(0);
            n.width = e->weight.size(1);
            if (reg == "batch" && l2 > 0)
                n.l2 = l2 * s.params.value("l2_scale", 1.0);
        } else if (s.type == "product" || s.type == "add" || s.type == "dot") {
            if (in.size() != 2 || widthOf(0) != widthOf(1) || f->nodes_[in[0]].kind == Kind::Ids ||
                f->nodes_[in[1]].kind == Kind::Ids)
                return refuse("block '" + s.id + "' combines values of different widths");
            n.kind = s.type == "product" ? Kind::Product : s.type == "add" ? Kind::Add : Kind::Dot;
            n.width = n.kind == Kind::Dot ? 1 : widthOf(0);
        } else if (s.type == "concat") {
            n.kind = Kind::Concat;
            for (size_t k = 0; k < in.size(); ++k) {
                if (f->nodes_[in[k]].kind == Kind::Ids)
                    return refuse("concat '" + s.id + "' joins ids");
                n.width += widthOf(k);
            }
        } else if (s.type == "linear" || s.type == "mlp") {
            if (in.size() != 1 || f->nodes_[in[0]].kind == Kind::Ids)
                return refuse("block '" + s.id + "' reads ids");
            if (s.type == "mlp" && s.params.value("dropout", 0.0) > 0)
                return refuse("MLP '" + s.id + "' has dropout");
            bool known = true;
            const Act act = s.type == "mlp" ? actNamed(s.params.value("activation", "relu"), &known) : Act::None;
            if (!known)
                return refuse("MLP '" + s.id + "' has a learned activation");
            std::vector<torch::nn::LinearImpl*> layers;
            if (!modules.count(s.id))
                return refuse("block '" + s.id + "' has no weights");
            if (auto* one = modules[s.id]->as<torch::nn::LinearImpl>())
                layers.push_back(one);
            else
                for (const auto& child : modules[s.id]->children())
                    if (auto* l = child->as<torch::nn::LinearImpl>())
                        layers.push_back(l);
            if (layers.empty())
                return refuse("block '" + s.id + "' has no linear layers");
            size_t from = in[0];
            for (size_t k = 0; k < layers.size(); ++k) {
                Node d;
                d.kind = Kind::Dense;
                d.in = {from};
                d.weight = layers[k]->weight;
                d.bias = layers[k]->bias;
                d.width = d.weight.size(0);
                d.act = act;
                if (d.weight.size(1) != f->nodes_[from].width)
                    return refuse("block '" + s.id + "' does not match its input's width");
                from = add(std::move(d));
            }
            nodeOf[s.index] = from;
            continue;
        } else if (s.type == "click_output" || s.type == "rating_output") {
            if (in.size() != 1 || widthOf(0) != 1)
                return refuse("the output does not read one value per row");
            n.kind = Kind::Output;
            n.width = 1;
            f->rating_ = a.task == TaskKind::RatingPrediction;
            f->addMean_ = s.params.value("add_global_mean", false);
            f->globalMean_ = model.data().globalMean;
            sawOutput = true;
        } else {
            return refuse("block '" + s.id + "' (" + s.type + ") needs autograd");
        }
        nodeOf[s.index] = add(std::move(n));
    }
    if (!sawOutput)
        return refuse("the graph has no click or rating output");
    for (const Node& n : f->nodes_)
        for (const auto* t : {&n.weight, &n.bias})
            if (t->defined())
                f->parameters_.push_back(*t);
    return f;
}

bool FusedStep::accepts(const Batch& b) const
{
    auto ids = [](const torch::Tensor& t) {
        return t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kLong && t.dim() == 1 && t.is_contiguous();
    };
    if (!ids(b.users) || !ids(b.items) || b.users.size(0) != b.items.size(0) || !b.labels.defined() ||
        !b.labels.device().is_cpu() || b.labels.scalar_type() != torch::kFloat || !b.labels.is_contiguous() ||
        b.labels.numel() != b.items.size(0))
        return false;
    for (const auto& p : parameters_) {
        const auto& g = p.grad();
        if (!p.device().is_cpu() || p.scalar_type() != torch::kFloat || !p.is_contiguous() || !g.defined() ||
            g.scalar_type() != torch::kFloat || !g.is_contiguous())
            return false;
    }
    return true;
}

double FusedStep::run(const Batch& batch, double weight)
{
    const int64_t rows = batch.items.size(0);
    if (rows == 0)
        return 0.0;
    forward(batch, rows);
    // the loss and its gradient at the output, the batch regularisers' penalty beside it
    const Node& out = nodes_.back();
    const float* z = out.value.data();
    const float* y = batch.labels.data_ptr<float>();
    float* dz = data(dz_, static_cast<size_t>(rows));
    const double inv = 1.0 / static_cast<double>(rows);
    double loss = 0.0;
    if (rating_) {
        const float mean = addMean_ ? static_cast<float>(globalMean_) : 0.f;
        for (int64_t r = 0; r < rows; ++r) {
            const float e = z[r] + mean - y[r];
            loss += static_cast<double>(e) * e;
            dz[r] = static_cast<float>(2.0 * weight * inv) * e;
        }
    } else {
        const float w = static_cast<float>(weight), n = static_cast<float>(rows);
        for (int64_t r = 0; r < rows; ++r) {
            const float v = z[r];
            loss += std::max(v, 0.f) - v * y[r] + std::log1p(std::exp(-std::fabs(v)));
            dz[r] = (1.f / (1.f + std::exp(-v)) - y[r]) * w / n; // as autograd rounds it
        }
    }
    loss *= inv;
    penaltyWeight_ = weight;
    for (const Node& n : nodes_)
        if (n.kind == Kind::Embed && n.l2 > 0) {
            double sq = 0.0;
            const float* v = n.value.data();
            for (int64_t k = 0, m = rows * n.width; k < m; ++k)
                sq += static_cast<double>(v[k]) * v[k];
            loss += n.l2 * inv * sq;
        }
    backward(rows);
    return loss * weight;
}

void FusedStep::forward(const Batch& batch, int64_t rows)
{
    for (Node& n : nodes_) {
        const size_t size = static_cast<size_t>(rows * n.width);
        switch (n.kind) {
        case Kind::Ids:
            n.ids = (n.user ? batch.users : batch.items).data_ptr<int64_t>();
            break;
        case Kind::Embed: {
            const int64_t* ids = nodes_[n.in[0]].ids;
            const float* table = n.weight.data_ptr<float>();
            float* v = data(n.value, size);
            for (int64_t r = 0; r < rows; ++r) {
                TORCH_CHECK(ids[r] >= 0 && ids[r] < n.vocab, "id ", ids[r], " is out of range for a table of ", n.vocab, " rows");
                std::memcpy(v + r * n.width, table + ids[r] * n.width, static_cast<size_t>(n.width) * sizeof(float));
            }
            break;
        }
        case Kind::Product:
        case Kind::Add:
        case Kind::Dot: {
            const float* a = nodes_[n.in[0]].value.data();
            const float* b = nodes_[n.in[1]].value.data();
            float* v = data(n.value, size);
            if (n.kind == Kind::Dot) {
                const int64_t w = nodes_[n.in[0]].width;
                for (int64_t r = 0; r < rows; ++r) {
                    float s = 0.f;
                    for (int64_t k = 0; k < w; ++k)
                        s += a[r * w + k] * b[r * w + k];
                    v[r] = s;
                }
            } else if (n.kind == Kind::Product) {
                for (size_t k = 0; k < size; ++k)
                    v[k] = a[k] * b[k];
            } else {
                for (size_t k = 0; k < size; ++k)
                    v[k] = a[k] + b[k];
            }
            break;
        }
        case Kind::Concat: {
            float* v = data(n.value, size);
            int64_t at = 0;
            for (const size_t i : n.in) {
                const Node& p = nodes_[i];
                for (int64_t r = 0; r < rows; ++r)
                    std::memcpy(v + r * n.width + at, p.value.data() + r * p.width, static_cast<size_t>(p.width) * sizeof(float));
                at += p.width;
            }
            break;
        }
        case Kind::Dense: {
            const Node& x = nodes_[n.in[0]];
            float* v = data(n.value, size);
            gemm(false, true, rows, n.width, x.width, x.value.data(), x.width, n.weight.data_ptr<float>(), x.width, 0.f, v,
                 n.width);
            const float* b = n.bias.defined() ? n.bias.data_ptr<float>() : nullptr;
            for (int64_t r = 0; r < rows; ++r) {
                float* row = v + r * n.width;
                if (b)
                    for (int64_t k = 0; k < n.width; ++k)
                        row[k] += b[k];
                if (n.act == Act::Relu)
                    for (int64_t k = 0; k < n.width; ++k)
                        row[k] = std::max(row[k], 0.f);
                else if (n.act == Act::Tanh)
                    for (int64_t k = 0; k < n.width; ++k)
                        row[k] = std::tanh(row[k]);
                else if (n.act == Act::Sigmoid)
                    for (int64_t k = 0; k < n.width; ++k)
                        row[k] = 1.f / (1.f + std::exp(-row[k]));
            }
            break;
        }
        case Kind::Output: {
            const Node& x = nodes_[n.in[0]];
            std::memcpy(data(n.value, size), x.value.data(), size * sizeof(float));
            break;
        }
        }
    }
}

void FusedStep::backward(int64_t rows)
{
    // A gradient is written by its value's first consumer and added to by the others; values
    // read by none or by several start from zero.
    for (Node& n : nodes_)
        if (n.kind != Kind::Ids && n.consumers != 1)
            std::fill_n(data(n.grad, static_cast<size_t>(rows * n.width)), rows * n.width, 0.f);
    auto into = [&](size_t i) { return data(nodes_[i].grad, static_cast<size_t>(rows * nodes_[i].width)); };
    auto adds = [&](size_t i) { return nodes_[i].consumers != 1; };
    auto put = [](float* g, bool add, size_t k, float v) { g[k] = add ? g[k] + v : v; };
    for (size_t idx = nodes_.size(); idx-- > 0;) {
        Node& n = nodes_[idx];
        const size_t size = static_cast<size_t>(rows * n.width);
        const float* g = n.kind == Kind::Output ? dz_.data() : n.grad.data();
        switch (n.kind) {
        case Kind::Ids:
            break;
        case Kind::Output: {
            float* dx = into(n.in[0]);
            const bool add = adds(n.in[0]);
            for (size_t k = 0; k < size; ++k)
                put(dx, add, k, g[k]);
            break;
        }
        case Kind::Embed: {
            const int64_t* ids = nodes_[n.in[0]].ids;
            float* table = n.weight.grad().data_ptr<float>();
            const float* v = n.value.data();
            // the batch regulariser, c · Σ ‖e‖² with c = l2 / rows: 2 · w · c · e, rounded as
            // autograd rounds it (w and c as floats), so that the two give the same bits
            const float scale = 2.f * (static_cast<float>(penaltyWeight_) * static_cast<float>(n.l2 / static_cast<double>(rows)));
            for (int64_t r = 0; r < rows; ++r) {
                float* dst = table + ids[r] * n.width;
                const float* src = g + r * n.width;
                const float* e = v + r * n.width;
                if (scale != 0.f)
                    for (int64_t k = 0; k < n.width; ++k)
                        dst[k] += src[k] + scale * e[k];
                else
                    for (int64_t k = 0; k < n.width; ++k)
                        dst[k] += src[k];
            }
            break;
        }
        case Kind::Product:
        case Kind::Add:
        case Kind::Dot: {
            const Node& a = nodes_[n.in[0]];
            const Node& b = nodes_[n.in[1]];
            float* da = into(n.in[0]);
            float* db = into(n.in[1]);
            const bool addA = adds(n.in[0]), addB = adds(n.in[1]);
            if (n.kind == Kind::Dot) {
                const int64_t w = a.width;
                for (int64_t r = 0; r < rows; ++r)
                    for (int64_t k = 0; k < w; ++k) {
                        const size_t j = static_cast<size_t>(r * w + k);
                        const float ga = g[r] * b.value[j], gb = g[r] * a.value[j];
                        put(da, addA, j, ga);
                        put(db, addB, j, gb);
                    }
            } else {
                for (size_t k = 0; k < size; ++k) {
                    const float ga = n.kind == Kind::Product ? g[k] * b.value[k] : g[k];
                    const float gb = n.kind == Kind::Product ? g[k] * a.value[k] : g[k];
                    put(da, addA, k, ga);
                    put(db, addB, k, gb);
                }
            }
            break;
        }
        case Kind::Concat: {
            int64_t at = 0;
            for (const size_t i : n.in) {
                float* d = into(i);
                const bool add = adds(i);
                const int64_t w = nodes_[i].width;
                for (int64_t r = 0; r < rows; ++r)
                    for (int64_t k = 0; k < w; ++k)
                        put(d, add, static_cast<size_t>(r * w + k), g[r * n.width + at + k]);
                at += w;
            }
            break;
        }
        case Kind::Dense: {
            // through the activation, in place: dZ = dY ⊙ act'(Y)
            float* dzv = n.grad.data();
            const float* yv = n.value.data();
            if (n.act == Act::Relu)
                for (size_t k = 0; k < size; ++k)
                    dzv[k] = yv[k] > 0.f ? dzv[k] : 0.f;
            else if (n.act == Act::Tanh)
                for (size_t k = 0; k < size; ++k)
                    dzv[k] *= 1.f - yv[k] * yv[k];
            else if (n.act == Act::Sigmoid)
                for (size_t k = 0; k < size; ++k)
                    dzv[k] *= yv[k] * (1.f - yv[k]);
            const Node& x = nodes_[n.in[0]];
            // dW += dZᵀ X, db += Σ_rows dZ, dX = dZ W
            // (as autograd forms it: Xᵀ dZ [in, out], added transposed)
            float* xtdz = data(dwT_, static_cast<size_t>(x.width * n.width));
            gemm(true, false, x.width, n.width, rows, x.value.data(), x.width, dzv, n.width, 0.f, xtdz, n.width);
            float* dw = n.weight.grad().data_ptr<float>();
            for (int64_t o = 0; o < n.width; ++o)
                for (int64_t i = 0; i < x.width; ++i)
                    dw[o * x.width + i] += xtdz[i * n.width + o];
            if (n.bias.defined()) // LibTorch's column sums: autograd's order of additions
                n.bias.grad().add_(torch::from_blob(dzv, {rows, n.width}, torch::kFloat).sum(0));
            gemm(false, false, rows, x.width, n.width, dzv, n.width, n.weight.data_ptr<float>(), x.width,
                 adds(n.in[0]) ? 1.f : 0.f, into(n.in[0]), x.width);
            break;
        }
        }
    }
}

} // namespace reclab
