#include "graph/GraphModule.h"

#include "data/Dataset.h"
#include "graph/GraphSteps.h"
#include "models/Dice.h"

#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/dropout.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <stdexcept>

namespace reclab {

std::string graphProblems(const GraphAnalysis& analysis, const std::string& source)
{
    std::string message = source + ": " + std::to_string(analysis.issues.size()) +
                           (analysis.issues.size() == 1 ? " problem: " : " problems: ");
    for (size_t k = 0; k < analysis.issues.size(); ++k)
        message += (k ? "; " : "") + analysis.issues[k].text();
    return message;
}

GraphData GraphData::from(const ModelShape& shape)
{
    GraphData d;
    d.numUsers = shape.numUsers;
    d.numItems = shape.numItems;
    d.globalMean = shape.globalMean;
    const ItemSideData* items = shape.itemData;
    const bool genres = items && items->hasGenres() && shape.numGenres > 0;
    d.numGenres = genres ? shape.numGenres : 0;
    d.genreMix = torch::zeros({d.numItems, d.numGenres});
    d.itemFeatures = torch::zeros({d.numItems, 1});
    if (items) {
        auto mix = d.genreMix.accessor<float, 2>();
        auto year = d.itemFeatures.accessor<float, 2>();
        for (int64_t i = 0; i < d.numItems; ++i) {
            if (genres) {
                const uint32_t from = items->genreStart[static_cast<size_t>(i)];
                const uint32_t to = items->genreStart[static_cast<size_t>(i) + 1];
                for (uint32_t g = from; g < to; ++g)
                    mix[i][items->genreList[g]] = 1.f / static_cast<float>(to - from);
            }
            if (static_cast<size_t>(i) < items->year.size() && items->year[static_cast<size_t>(i)] > 0)
                year[i][0] = static_cast<float>(items->year[static_cast<size_t>(i)] - 1900) / 100.f;
        }
    }
    d.userFeatures = torch::zeros({d.numUsers, 2});
    if (const UserSideData* users = shape.userData) {
        auto f = d.userFeatures.accessor<float, 2>();
        for (int64_t u = 0; u < d.numUsers; ++u) {
            const auto k = static_cast<size_t>(u);
            if (k < users->age.size())
                f[u][0] = static_cast<float>(users->age[k]) / 100.f;
            if (k < users->gender.size())
                f[u][1] = users->gender[k] == 'F' ? 1.f : 0.f;
        }
    }
    d.inverseCounts = torch::zeros({d.numItems + 1});
    if (shape.itemSampleCounts && static_cast<int64_t>(shape.itemSampleCounts->size()) == d.numItems) {
        auto v = d.inverseCounts.accessor<float, 1>();
        for (int64_t i = 0; i < d.numItems; ++i)
            if (const int64_t count = (*shape.itemSampleCounts)[static_cast<size_t>(i)]; count > 0)
                v[i] = 1.f / static_cast<float>(count);
    }
    return d;
}

torch::nn::AnyModule activationModule(const std::string& name, int64_t channels)
{
    if (name == "relu")
        return torch::nn::AnyModule(torch::nn::ReLU());
    if (name == "sigmoid")
        return torch::nn::AnyModule(torch::nn::Sigmoid());
    if (name == "tanh")
        return torch::nn::AnyModule(torch::nn::Tanh());
    if (name == "prelu")
        return torch::nn::AnyModule(torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(channels)));
    if (name == "dice")
        return torch::nn::AnyModule(Dice(channels));
    return {};
}

namespace {

// Linear + activation (+ dropout) per size.
torch::nn::Sequential tower(int64_t in, const nlohmann::json& sizes, const std::string& activation, double dropout,
                            bool firstLinear = true)
{
    torch::nn::Sequential seq;
    int64_t width = in;
    bool first = true;
    for (const auto& size : sizes) {
        const int64_t units = size.get<int64_t>();
        if (!first || firstLinear)
            seq->push_back(torch::nn::Linear(width, units));
        first = false;
        if (auto act = activationModule(activation, units); !act.is_empty())
            seq->push_back(std::move(act));
        if (dropout > 0)
            seq->push_back(torch::nn::Dropout(dropout));
        width = units;
    }
    return seq;
}

const std::map<std::string, BlockOp>& opsByType()
{
    static const std::map<std::string, BlockOp> ops = {
        {"user_id", BlockOp::UserId},       {"item_id", BlockOp::ItemId},
        {"history", BlockOp::History},      {"item_category", BlockOp::ItemCategory},
        {"history_category", BlockOp::HistoryCategory}, {"dense_features", BlockOp::Dense},
        {"embedding", BlockOp::Embedding},  {"linear", BlockOp::Linear},
        {"mlp", BlockOp::Mlp},              {"product", BlockOp::Product},
        {"add", BlockOp::Add},              {"dot", BlockOp::Dot},
        {"concat", BlockOp::Concat},        {"sum_pool", BlockOp::SumPool},
        {"mean_pool", BlockOp::MeanPool},   {"din_attention", BlockOp::Attention},
        {"click_output", BlockOp::ClickOutput}, {"rating_output", BlockOp::RatingOutput}};
    return ops;
}

} // namespace

GraphModelImpl::GraphModelImpl(GraphSpec graph, const GraphData& data, double l2)
    : graph_(std::move(graph)), data_(data), l2_(l2)
{
    analysis_ = analyseGraph(graph_, data_.context());
    if (!analysis_.ok())
        throw GraphError(graph_.name.empty() ? "graph" : graph_.name, "", graphProblems(analysis_, "invalid graph"));
    build();
}

void GraphModelImpl::build()
{
    torch::NoGradGuard noGrad;
    std::map<std::string, size_t> position;
    data_.genreMix = register_buffer("genre_mix", data_.genreMix);
    data_.userFeatures = register_buffer("user_features", data_.userFeatures);
    data_.itemFeatures = register_buffer("item_features", data_.itemFeatures);
    data_.inverseCounts = register_buffer("inverse_counts", data_.inverseCounts);
    for (const auto& id : analysis_.order) {
        const GraphNode& node = *graph_.node(id);
        const BlockAnalysis& info = *analysis_.block(id);
        auto step = std::make_shared<Step>();
        step->id = id;
        step->params = info.params;
        const auto op = opsByType().find(node.type);
        step->op = op == opsByType().end() ? BlockOp::Unary : op->second;
        const BlockSpec& spec = *findBlock(node.type);
        for (const auto& port : inputPortsOf(spec, info.params))
            step->inputs.push_back(position.at(graph_.edgeInto({id, port.name})->from.node));
        auto inputWidth = [&](size_t k) { return analysis_.block(graph_.edgeInto({id, inputPortsOf(spec, info.params)[k].name})->from.node)->output->width; };
        const auto& p = info.params;

        // Granularity for scoring all items: inputs fix it, other blocks take their inputs'.
        switch (step->op) {
        case BlockOp::UserId: step->granularity = Granularity::User; break;
        case BlockOp::ItemId:
        case BlockOp::ItemCategory: step->granularity = Granularity::Item; break;
        case BlockOp::Dense: {
            bool user = false, item = false;
            for (const auto& f : p["features"]) {
                const auto name = f.get<std::string>();
                const int column = name == "user_age" ? 0 : name == "user_gender" ? 1 : 2;
                step->features.push_back(column);
                (column < 2 ? user : item) = true;
            }
            step->granularity = user && item ? Granularity::Pair : user ? Granularity::User : Granularity::Item;
            break;
        }
        default: {
            bool user = false, item = false, pair = step->inputs.empty();
            for (const size_t k : step->inputs) {
                const auto g = steps_[k]->granularity;
                user = user || g == Granularity::User;
                item = item || g == Granularity::Item;
                pair = pair || g == Granularity::Pair;
            }
            step->granularity = pair || (user && item) ? Granularity::Pair : user ? Granularity::User : Granularity::Item;
        }
        }

        switch (step->op) {
        case BlockOp::Embedding: {
            const auto vocab = p["ids_vocab"].get<std::string>();
            step->bag = vocab == "category";
            step->table = p["table"].get<std::string>().empty() ? id : p["table"].get<std::string>();
            step->regularizer = p["regularizer"].get<std::string>();
            step->l2Scale = p["l2_scale"].get<double>();
            if (step->regularizer == "mini_batch_aware" && vocab != "item")
                throw GraphError(graph_.name, "nodes." + id, "mini-batch aware regularisation applies to item tables");
            if (!tables_.count(step->table)) {
                const int64_t rows = vocab == "user" ? data_.numUsers : vocab == "item" ? data_.numItems : data_.numGenres;
                auto table = register_module(step->table, torch::nn::Embedding(rows, p["dim"].get<int64_t>()));
                const double std = p["init_std"].get<double>();
                if (std > 0)
                    table->weight.normal_(0.0, std);
                else
                    table->weight.zero_();
                tables_.emplace(step->table, table);
            }
            break;
        }
        case BlockOp::Linear:
            step->linear = register_module(id, torch::nn::Linear(torch::nn::LinearOptions(inputWidth(0), p["units"].get<int64_t>())
                                                                     .bias(p["bias"].get<bool>())));
            break;
        case BlockOp::Mlp:
            step->sequential = register_module(
                id, tower(inputWidth(0), p["layers"], p["activation"], p["dropout"].get<double>()));
            break;
        case BlockOp::Attention: {
            // DIN's unit: the first layer over [h, t, h - t, h * t] apart, so it can be applied
            // in parts; then the hidden layers and one output.
            auto unit = std::make_shared<torch::nn::Module>();
            const int64_t width = inputWidth(0);
            step->linear = unit->register_module("input", torch::nn::Linear(4 * width, p["layers"][0].get<int64_t>()));
            auto tail = tower(0, p["layers"], p["activation"], 0.0, false);
            int64_t last = p["layers"].back().get<int64_t>();
            tail->push_back(torch::nn::Linear(last, 1));
            step->sequential = unit->register_module("tail", tail);
            register_module(id, unit);
            break;
        }
        case BlockOp::Unary: {
            const int64_t width = inputWidth(0);
            if (node.type == "dropout")
                step->unary = torch::nn::AnyModule(torch::nn::Dropout(p["p"].get<double>()));
            else if (node.type == "batch_norm")
                step->unary = torch::nn::AnyModule(torch::nn::BatchNorm1d(width));
            else
                step->unary = activationModule(node.type, width);
            // Registered so that train() and eval() reach it (dropout, batch statistics).
            register_module(id, step->unary.ptr());
            break;
        }
        case BlockOp::RatingOutput: step->addGlobalMean = p["add_global_mean"].get<bool>(); break;
        default: break;
        }
        position[id] = steps_.size();
        steps_.push_back(std::move(step));
    }
    planSharedHistory();
}

ModelFamily GraphModelImpl::family() const
{
    for (const auto& s : steps_)
        if (s->op == BlockOp::Attention)
            return ModelFamily::Sequential;
    return analysis_.usesHistory ? ModelFamily::Context : ModelFamily::General;
}

struct GraphModelImpl::Value {
    torch::Tensor rows;         // [n, w]
    torch::Tensor table, index; // lazily: rows = table[index]
    bool weightTable = false;   // table is an embedding's weight: gathered as nn::Embedding does
    torch::Tensor ids;          // ids and category sets: [n] (sets: the items whose sets)
    bool sequence = false;      // packed: one row per real behaviour

    const torch::Tensor& materialise()
    {
        if (!rows.defined())
            rows = weightTable ? torch::embedding(table, index) : table.index_select(0, index);
        return rows;
    }
};

struct GraphModelImpl::Forward {
    explicit Forward(const Batch& b) : batch(b) {}
    const Batch& batch;
    int64_t rows = 0;
    torch::Tensor flat, rowOf, behaviours, lengths; // the packed sequence
    torch::Tensor* penalty = nullptr;
    std::map<std::string, std::vector<torch::Tensor>> awareIds; // mini-batch aware tables

    // The rows of v, repeated along the sequence when v is per row and the other side is packed.
    torch::Tensor rowsFor(Value& v, bool sequence) const
    {
        const auto& r = v.materialise();
        return sequence && !v.sequence ? r.index_select(0, rowOf) : r;
    }
};

torch::Tensor GraphModelImpl::run(const Batch& batch, torch::Tensor* penalty)
{
    Forward f(batch);
    f.rows = batch.items.defined() ? batch.items.size(0) : batch.users.size(0);
    f.penalty = penalty;
    if (analysis_.usesHistory) {
        TORCH_CHECK(batch.history.defined() && batch.historyLength.defined(), "this graph needs behaviour histories");
        const int64_t L = batch.history.size(1);
        const auto valid = torch::arange(L, batch.history.options()).unsqueeze(0) < batch.historyLength.unsqueeze(1);
        f.flat = valid.reshape({-1}).nonzero().squeeze(1);
        f.rowOf = f.flat.div(L, "floor");
        f.behaviours = batch.history.reshape({-1}).index_select(0, f.flat);
        f.lengths = batch.historyLength;
    }
    std::vector<Value> values(steps_.size());
    torch::Tensor result;
    for (size_t k = 0; k < steps_.size(); ++k) {
        Step& s = *steps_[k];
        Value& out = values[k];
        auto in = [&](size_t port) -> Value& { return values[s.inputs[port]]; };
        switch (s.op) {
        case BlockOp::UserId: out.ids = batch.users; break;
        case BlockOp::ItemId:
        case BlockOp::ItemCategory: out.ids = batch.items; break;
        case BlockOp::History:
        case BlockOp::HistoryCategory:
            out.ids = f.behaviours;
            out.sequence = true;
            break;
        case BlockOp::Dense: {
            std::vector<torch::Tensor> columns;
            for (const int c : s.features)
                columns.push_back(c < 2 ? data_.userFeatures.select(1, c).index_select(0, batch.users)
                                        : data_.itemFeatures.select(1, 0).index_select(0, batch.items));
            out.rows = torch::stack(columns, 1);
            break;
        }
        case BlockOp::Embedding: {
            const Value& ids = in(0);
            const auto& weight = tables_.at(s.table)->weight;
            out.sequence = ids.sequence;
            out.index = ids.ids;
            out.weightTable = !s.bag;
            out.table = s.bag ? data_.genreMix.matmul(weight) : weight;
            if (penalty && s.regularizer == "batch")
                *penalty = *penalty + (l2_ * s.l2Scale / static_cast<double>(f.rows)) * out.materialise().pow(2).sum();
            else if (penalty && s.regularizer == "mini_batch_aware")
                f.awareIds[s.table].push_back(ids.ids);
            break;
        }
        case BlockOp::Linear:
            out.sequence = in(0).sequence;
            out.rows = s.linear->forward(in(0).materialise());
            break;
        case BlockOp::Mlp:
            out.sequence = in(0).sequence;
            out.rows = s.sequential->forward(in(0).materialise());
            break;
        case BlockOp::Unary:
            out.sequence = in(0).sequence;
            out.rows = s.unary.forward(in(0).materialise());
            break;
        case BlockOp::Product:
        case BlockOp::Add:
        case BlockOp::Dot: {
            out.sequence = in(0).sequence || in(1).sequence;
            const auto a = f.rowsFor(in(0), out.sequence);
            const auto b = f.rowsFor(in(1), out.sequence);
            out.rows = s.op == BlockOp::Add ? a + b : s.op == BlockOp::Product ? a * b : (a * b).sum(1, true);
            break;
        }
        case BlockOp::Concat: {
            bool sameIndex = true, sequence = false;
            for (const size_t i : s.inputs) {
                sameIndex = sameIndex && values[i].table.defined() &&
                            values[i].index.unsafeGetTensorImpl() == in(0).index.unsafeGetTensorImpl();
                sequence = sequence || values[i].sequence;
            }
            out.sequence = sequence;
            std::vector<torch::Tensor> parts;
            if (sameIndex) { // lookups of the same ids: one table of the joined columns
                for (const size_t i : s.inputs)
                    parts.push_back(values[i].table);
                out.table = torch::cat(parts, 1);
                out.index = in(0).index;
            } else {
                for (const size_t i : s.inputs)
                    parts.push_back(f.rowsFor(values[i], sequence));
                out.rows = torch::cat(parts, 1);
            }
            break;
        }
        case BlockOp::SumPool:
        case BlockOp::MeanPool: {
            const auto& r = in(0).materialise();
            out.rows = torch::zeros({f.rows, r.size(1)}, r.options()).index_add(0, f.rowOf, r);
            if (s.op == BlockOp::MeanPool)
                out.rows = out.rows / f.lengths.clamp_min(1).to(r.scalar_type()).unsqueeze(1);
            break;
        }
        case BlockOp::Attention: {
            // W [h, t, h - t, h * t] + b = (W1 + W3) h + (W2 - W3) t + W4 (h * t) + b: the h part
            // once per table row when the behaviours are a lookup, the t part once per row.
            Value& keys = in(0);
            const auto& query = in(1).materialise();
            const auto chunks = s.linear->weight.chunk(4, 1);
            const auto keyWeight = (chunks[0] + chunks[2]).t();
            const auto perKey = keys.table.defined() ? keys.table.matmul(keyWeight).index_select(0, keys.index)
                                                     : keys.materialise().matmul(keyWeight);
            const auto& h = keys.materialise();
            const auto perRow = torch::addmm(s.linear->bias, query, (chunks[1] - chunks[2]).t());
            const auto t = query.index_select(0, f.rowOf);
            const auto first = perKey + perRow.index_select(0, f.rowOf) + (h * t).matmul(chunks[3].t());
            const auto w = s.sequential->forward(first).squeeze(1);
            out.rows = torch::zeros({f.rows, h.size(1)}, h.options()).index_add(0, f.rowOf, h * w.unsqueeze(1));
            if (!is_training())
                lastAttention_ = torch::zeros({f.rows * batch.history.size(1)}, h.options())
                                     .index_put({f.flat}, w.detach())
                                     .view({f.rows, batch.history.size(1)});
            break;
        }
        case BlockOp::ClickOutput: result = in(0).materialise().squeeze(1); break;
        case BlockOp::RatingOutput:
            result = in(0).materialise().squeeze(1);
            if (s.addGlobalMean)
                result = result + data_.globalMean;
            break;
        }
    }
    if (penalty) {
        for (const auto& [table, idsList] : f.awareIds) {
            // l2 / 2 * sum over the batch's distinct items of ||w_j||^2 / n_j (Zhou et al. 2018,
            // 4.3); histories' padding index hits the zero count of the padding slot.
            auto inBatch = torch::zeros({data_.numItems + 1}, data_.inverseCounts.options());
            if (batch.items.defined())
                inBatch.index_fill_(0, batch.items, 1.f);
            for (const auto& ids : idsList)
                inBatch.index_fill_(0, ids, 1.f);
            if (batch.history.defined())
                inBatch.index_fill_(0, batch.history.reshape({-1}), 1.f);
            const auto weight = (inBatch * data_.inverseCounts).narrow(0, 0, data_.numItems);
            double scale = 1.0;
            for (const auto& s : steps_)
                if (s->op == BlockOp::Embedding && s->table == table)
                    scale = s->l2Scale;
            *penalty = *penalty + 0.5 * l2_ * scale * (weight * tables_.at(table)->weight.pow(2).sum(1)).sum();
        }
    }
    return result;
}

torch::Tensor GraphModelImpl::forward(const Batch& batch)
{
    return run(batch, nullptr);
}

torch::Tensor GraphModelImpl::calculateLoss(const Batch& batch)
{
    torch::Tensor penalty = torch::zeros({}, batch.labels.options());
    const auto out = run(batch, l2_ > 0 ? &penalty : nullptr);
    const auto loss = analysis_.task == TaskKind::RatingPrediction
                          ? (out - batch.labels).pow(2).mean()
                          : torch::nn::functional::binary_cross_entropy_with_logits(out, batch.labels);
    return l2_ > 0 ? loss + penalty : loss;
}

torch::Tensor GraphModelImpl::predictBatch(const Batch& batch)
{
    return run(batch, nullptr);
}

torch::Tensor GraphModelImpl::predict(const torch::Tensor& users, const torch::Tensor& items)
{
    if (analysis_.usesHistory)
        throw std::logic_error("this graph scores a behaviour history with a candidate; use predictBatch");
    Batch b;
    b.users = users;
    b.items = items;
    return run(b, nullptr);
}

void GraphModelImpl::loadPretrained(const std::vector<const GraphModelImpl*>& parts, double alpha)
{
    TORCH_CHECK(graph_.pretrain && !parts.empty(), "this graph has no pre-training");
    torch::NoGradGuard noGrad;
    const std::string fuse = graph_.pretrain->fuse + ".";
    const auto n = static_cast<double>(parts.size());
    auto share = [&](size_t k) { return k == 0 ? alpha : (parts.size() == 1 ? 0.0 : (1 - alpha) / (n - 1)); };
    std::vector<torch::OrderedDict<std::string, torch::Tensor>> sources;
    for (const auto* part : parts)
        sources.push_back(part->named_parameters());
    auto targets = named_parameters();
    for (auto& item : targets) {
        const std::string& name = item.key();
        auto& target = item.value();
        if (name.rfind(fuse, 0) == 0) {
            // The fuse layer: the parts' own fuse layers side by side (weights) or mixed (bias).
            std::vector<torch::Tensor> pieces;
            torch::Tensor mixed;
            for (size_t k = 0; k < parts.size(); ++k) {
                const auto* source = sources[k].find(name);
                TORCH_CHECK(source, "pre-training part ", parts[k]->graph().name, " has no ", name);
                const auto scaled = *source * share(k);
                if (name == fuse + "weight")
                    pieces.push_back(scaled);
                else
                    mixed = mixed.defined() ? mixed + scaled : scaled;
            }
            target.copy_(name == fuse + "weight" ? torch::cat(pieces, 1) : mixed);
            continue;
        }
        for (const auto& dict : sources)
            if (const auto* source = dict.find(name); source && source->sizes() == target.sizes()) {
                target.copy_(*source);
                break;
            }
    }
}

} // namespace reclab
