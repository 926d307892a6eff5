#include "compiled/GraphModule.h"

#include "data/Dataset.h"
#include "data/ProfileFields.h"
#include "compiled/BlockKernel.h"
#include "compiled/FusedStep.h"

#include <torch/nn/functional/loss.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <stdexcept>

namespace reclab {

namespace {

void addProfileFields(GraphData& d, const ModelShape& shape)
{
    const UserSideData noUsers;
    const ItemSideData noItems;
    d.userFields = torch::zeros({d.numUsers, kUserProfileFields}, torch::kLong);
    d.itemFields = torch::zeros({d.numItems, kProfileFieldCount - kUserProfileFields}, torch::kLong);
    for (int k = 0; k < kProfileFieldCount; ++k) {
        const auto field = static_cast<ProfileField>(k);
        const FieldCodes codes =
            profileCodes(shape.userData ? *shape.userData : noUsers, shape.itemData ? *shape.itemData : noItems,
                         static_cast<size_t>(d.numUsers), static_cast<size_t>(d.numItems), field);
        d.fieldSizes[static_cast<size_t>(k)] = static_cast<int64_t>(codes.labels.size());
        torch::Tensor column = isUserField(field) ? d.userFields.select(1, k) : d.itemFields.select(1, k - kUserProfileFields);
        column.copy_(torch::tensor(std::vector<int64_t>(codes.code.begin(), codes.code.end()), torch::kLong));
    }
}

} // namespace

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
    addProfileFields(d, shape);
    d.inverseCounts = torch::zeros({d.numItems + 1});
    if (shape.itemSampleCounts && static_cast<int64_t>(shape.itemSampleCounts->size()) == d.numItems) {
        auto v = d.inverseCounts.accessor<float, 1>();
        for (int64_t i = 0; i < d.numItems; ++i)
            if (const int64_t count = (*shape.itemSampleCounts)[static_cast<size_t>(i)]; count > 0)
                v[i] = 1.f / static_cast<float>(count);
    }
    return d;
}

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
    data_.genreMix = register_buffer("genre_mix", data_.genreMix);
    data_.userFeatures = register_buffer("user_features", data_.userFeatures);
    data_.itemFeatures = register_buffer("item_features", data_.itemFeatures);
    data_.inverseCounts = register_buffer("inverse_counts", data_.inverseCounts);
    // Profile codes only where the graph reads them, so other graphs' checkpoints stay as they were.
    const bool fields = std::any_of(graph_.nodes.begin(), graph_.nodes.end(), [](const GraphNode& n) {
        return n.type == "user_profile" || n.type == "item_field";
    });
    if (fields) {
        data_.userFields = register_buffer("user_fields", data_.userFields);
        data_.itemFields = register_buffer("item_fields", data_.itemFields);
    }
    // Text only where the graph reads it, so other graphs' checkpoints stay as they were.
    for (auto [tensor, name] : {std::pair{&data_.itemWords, "item_words"}, {&data_.itemReviewWords, "item_review_words"},
                                {&data_.userReviewWords, "user_review_words"}})
        if (tensor->defined())
            *tensor = register_buffer(name, *tensor);
    CompileContext context{*this, data_, graph_.name, {}};
    std::map<std::string, size_t> position;
    for (const auto& id : analysis_.order) {
        const GraphNode& node = *graph_.node(id);
        const BlockAnalysis& info = *analysis_.block(id);
        auto step = std::make_shared<Step>();
        step->index = steps_.size();
        step->id = id;
        step->type = node.type;
        step->params = info.params;
        step->output = info.output;
        step->kernel = kernelRegistry().find(node.type);
        if (!step->kernel)
            throw GraphError(graph_.name, "nodes." + id, "block type '" + node.type + "' has no LibTorch form");
        std::vector<Granularity> granularities;
        for (const auto& port : inputPortsOf(*findBlock(node.type), info.params)) {
            const std::string& from = graph_.edgeInto({id, port.name})->from.node;
            step->inputs.push_back(position.at(from));
            step->inputTypes.push_back(*analysis_.block(from)->output);
            granularities.push_back(steps_[step->inputs.back()]->granularity);
        }
        step->kernel->compile(context, *step);
        // Where the value varies when all items are scored: inputs fix it, the rest follow theirs.
        step->granularity = step->kernel->granularity(*step, granularities);
        position[id] = steps_.size();
        steps_.push_back(std::move(step));
    }
    HistoryPlan plan;
    plan.ok = analysis_.usesHistory;
    walkSteps(steps_, plan);
    shared_.supported = plan.ok;
    shared_.attentionStep = plan.ok && plan.weighing == 1 ? plan.tableStep : -1;
}

ModelFamily GraphModelImpl::family() const
{
    if (analysis_.weighsBehaviours)
        return ModelFamily::Sequential;
    return analysis_.usesHistory ? ModelFamily::Context : ModelFamily::General;
}

const torch::Tensor& BatchValue::materialise()
{
    if (!rows.defined())
        rows = weightTable ? torch::embedding(table, index) : table.index_select(0, index);
    return rows;
}

torch::Tensor BatchPass::rowsFor(BatchValue& v, bool sequence) const
{
    const auto& r = v.materialise();
    return sequence && !v.sequence ? r.index_select(0, rowOf) : r;
}

torch::Tensor BatchPass::padded(const torch::Tensor& packed) const
{
    const int64_t L = batch.history.size(1), d = packed.size(1);
    return torch::zeros({rows * L, d}, packed.options()).index_add(0, flat, packed).view({rows, L, d});
}

torch::Tensor BatchPass::packed(const torch::Tensor& padded) const
{
    return padded.reshape({-1, padded.size(2)}).index_select(0, flat);
}

bool BatchPass::visit(GraphStep& s, const Inputs<BatchValue>& in, BatchValue& out)
{
    out = s.kernel->forward(*this, s, in);
    return true;
}

torch::Tensor GraphModelImpl::run(const Batch& batch, torch::Tensor* penalty, torch::Tensor* targets)
{
    BatchPass pass(batch, data_);
    pass.training = is_training();
    pass.rows = batch.items.defined() ? batch.items.size(0) : batch.history.defined() ? batch.history.size(0) : batch.users.size(0);
    pass.penalty = penalty;
    pass.l2 = l2_;
    pass.behaviourWeights = &lastAttention_;
    pass.fused = fusedSteps_;
    if (analysis_.usesHistory) {
        TORCH_CHECK(batch.history.defined() && batch.historyLength.defined(), "this graph needs behaviour histories");
        const int64_t L = batch.history.size(1);
        const auto valid = torch::arange(L, batch.history.options()).unsqueeze(0) < batch.historyLength.unsqueeze(1);
        pass.flat = valid.reshape({-1}).nonzero().squeeze(1);
        pass.rowOf = pass.flat.div(L, "floor");
        pass.behaviours = batch.history.reshape({-1}).index_select(0, pass.flat);
        pass.lengths = batch.historyLength;
    }
    walkSteps(steps_, pass);
    for (auto& [key, finish] : pass.atEnd)
        finish();
    if (targets)
        *targets = pass.targets;
    return pass.result;
}

torch::Tensor GraphModelImpl::forward(const Batch& batch)
{
    return run(batch, nullptr);
}

torch::Tensor GraphModelImpl::nextItemLoss(const torch::Tensor& out, const torch::Tensor& targets, bool sampled) const
{
    namespace F = torch::nn::functional;
    if (!sampled) // out: every item's logit; cross-entropy over all items
        return F::cross_entropy(out, targets, F::CrossEntropyFuncOptions().label_smoothing(labelSmoothing_));
    // out: [targets, 1 + k], the target's score then its negatives'.
    const auto positive = out.narrow(1, 0, 1), negatives = out.narrow(1, 1, out.size(1) - 1);
    if (sampledLoss_ == "bpr") // the target above each negative: −log σ(s⁺ − s⁻)
        return -F::logsigmoid(positive - negatives).mean();
    // BCE (the SASRec paper's): −log σ(s⁺) − Σ log(1 − σ(s⁻)), averaged over the targets
    return -(F::logsigmoid(positive).squeeze(1) + F::logsigmoid(-negatives).sum(1)).mean();
}

torch::Tensor GraphModelImpl::calculateLoss(const Batch& batch)
{
    const bool windows = batch.targets.defined(); // next-item windows: a target per position
    TORCH_CHECK(!windows || analysis_.nextItems, "next-item targets given to a graph without a next-item output");
    torch::Tensor penalty = torch::zeros({}, torch::TensorOptions().device(batch.users.device()));
    torch::Tensor targets;
    const auto out = run(batch, l2_ > 0 ? &penalty : nullptr, windows ? &targets : nullptr);
    const auto loss = windows ? nextItemLoss(out, targets, batch.negativeTargets.defined())
                      : analysis_.task == TaskKind::RatingPrediction
                          ? (out - batch.labels).pow(2).mean()
                          : torch::nn::functional::binary_cross_entropy_with_logits(out, batch.labels);
    return l2_ > 0 ? loss + penalty : loss;
}

bool GraphModelImpl::hasFusedStep(std::string* why)
{
    if (!fusedPlanned_) {
        fusedPlanned_ = true;
        fused_ = FusedStep::plan(*this, l2_, &fusedRefusal_);
    }
    if (why)
        *why = fusedRefusal_;
    return fused_ != nullptr;
}

bool GraphModelImpl::spreadsTraining() const
{
    return fusedSteps_ && std::any_of(steps_.begin(), steps_.end(), [](const auto& s) { return s->kernel->spreadsTraining(*s); });
}

torch::Tensor GraphModelImpl::trainingStep(const Batch& batch, double weight)
{
    if (fusedSteps_ && !batch.targets.defined() && hasFusedStep() && fused_->accepts(batch))
        return torch::scalar_tensor(fused_->run(batch, weight));
    return Recommender::trainingStep(batch, weight);
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
