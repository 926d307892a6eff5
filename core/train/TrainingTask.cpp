#include "train/TrainingTask.h"

#include "util/Hash.h"

#include "data/MovieLens100kLoader.h"
#include "data/Preparation.h"
#include "runs/Protocols.h"
#include "zoo/ModelRegistry.h"
#include "util/Words.h"
#include "util/Error.h"
#include "util/Random.h"

#include <torch/types.h>

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace reclab {

namespace {

// Writes rows in a seeded random order into CPU tensors (negItems too when negs is given): all of
// them, or the shard's of each batch.
template <typename Ids, typename Labels>
EpochData shuffledEpoch(const Ids& users, const Ids& items, const Labels& labels, Random& rng, const EpochShard& shard,
                        const std::vector<int32_t>* negs = nullptr)
{
    const size_t n = users.size();
    std::vector<uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    rng.shuffle(order.begin(), order.end());
    // The positions kept: [from, to) of each batch.
    std::vector<std::pair<size_t, size_t>> spans;
    size_t kept = n;
    if (!shard.whole()) {
        kept = 0;
        const auto batch = static_cast<size_t>(shard.batch);
        for (size_t start = 0; start < n; start += batch) {
            const size_t len = std::min(batch, n - start);
            const size_t from = start + len * static_cast<size_t>(shard.rank) / static_cast<size_t>(shard.size);
            const size_t to = start + len * static_cast<size_t>(shard.rank + 1) / static_cast<size_t>(shard.size);
            spans.emplace_back(from, to);
            kept += to - from;
        }
    } else {
        spans.emplace_back(0, n);
    }
    const auto rows = static_cast<int64_t>(kept);
    EpochData data{torch::empty({rows}, torch::kLong), torch::empty({rows}, torch::kLong),
                   torch::empty({rows}, torch::kFloat), negs ? torch::empty({rows}, torch::kLong) : torch::Tensor(), {}, {}, {}, {}};
    data.epochRows = shard.whole() ? 0 : static_cast<int64_t>(n);
    auto* u = data.users.data_ptr<int64_t>();
    auto* i = data.items.data_ptr<int64_t>();
    auto* y = data.labels.data_ptr<float>();
    int64_t* j = negs ? data.negItems.data_ptr<int64_t>() : nullptr;
    size_t out = 0;
    for (const auto& [from, to] : spans)
        for (size_t k = from; k < to; ++k, ++out) {
            const uint32_t r = order[k];
            u[out] = users[r];
            i[out] = items[r];
            y[out] = labels[r];
            if (j)
                j[out] = (*negs)[r];
        }
    return data;
}

// Refuses a protocol that does not evaluate the task, with what the task uses instead; an
// empty id is the task's default and passes.
void requireProtocolFits(const std::string& id, TaskKind task)
{
    const ProtocolInfo* p = findProtocol(id);
    if (id.empty() || !p || p->fits(task))
        return;
    const std::string uses = protocolIds(protocolsFor(task));
    switch (task) {
    case TaskKind::RatingPrediction:
        throw ConfigError("protocol", "'" + id + "' does not predict ratings; rating models use " + uses);
    case TaskKind::ImplicitRanking:
        throw ConfigError("protocol", "'" + id + "' does not rank items; ranking models use " + uses);
    case TaskKind::ClickThrough: {
        std::vector<std::string> models; // "base and din"
        for (const auto& m : modelRegistry())
            if (m.task == task)
                models.push_back(m.name);
        throw ConfigError("protocol", "'" + id + "' has no behaviour histories; " + joinWords(models) + " use the " +
                                          uses + " protocol");
    }
    }
}

} // namespace

std::unique_ptr<TrainingTask> TrainingTask::create(TaskKind kind, const Dataset& dataset, const TrainConfig& config)
{
    if (dataset.interactions.size() == 0)
        throw DataError(dataset.source, 0, "", "the dataset has no interactions");
    requireProtocolFits(config.protocol, kind);
    const ProtocolInfo* protocol = findProtocol(config.protocol);
    if (protocol && protocol->id == "cold")
        return std::make_unique<ColdTask>(dataset, config, kind);
    const bool common = protocol && protocol->anyTask;
    if (kind == TaskKind::RatingPrediction && !common)
        return std::make_unique<RatingPredictionTask>(dataset, config);
    if (kind == TaskKind::ClickThrough && !common)
        return std::make_unique<ClickThroughTask>(dataset, config);
    if (config.duplicates.empty()) {
        // Leave-one-out would hold out one copy of a pair and train on the other.
        if (const RepeatedPairs repeated = findRepeatedPairs(dataset); repeated.rows > 0) {
            const auto row = static_cast<size_t>(repeated.exampleRow);
            throw DataError(dataset.source, 0, "",
                            std::to_string(repeated.rows) + " rows repeat a (user, item) pair of an earlier row (e.g. user " +
                                dataset.userIds[static_cast<size_t>(dataset.interactions.user[row])] + ", item " +
                                dataset.itemIds[static_cast<size_t>(dataset.interactions.item[row])] +
                                "): a held-out item would also be trained on. Keep each pair's latest row (--dedup) or "
                                "all of them (--keep-duplicates)");
        }
    }
    if (common) {
        ModelAbilities abilities = abilitiesOf(config);
        abilities.task = kind;
        return std::make_unique<CommonTask>(dataset, config, abilities);
    }
    return std::make_unique<ImplicitRankingTask>(dataset, config);
}

namespace {

void requireValidation(const Dataset& dataset, bool empty)
{
    if (empty)
        throw ConfigError("validation-metric", "the prepared split of " + dataset.name +
                                                   " has no validation part; prepare it with one (e.g. loo, ratio:8,1,1)");
}

// The held-out rows of a prepared split, or the leave-one-out split the task makes itself.
LeaveOneOutSplit rankingSplit(const Dataset& dataset, bool validation)
{
    if (!dataset.presplit)
        return makeLeaveOneOutSplit(dataset, validation);
    const InteractionTable& all = dataset.interactions;
    LeaveOneOutSplit split;
    for (size_t r = 0; r < all.size(); ++r) {
        const uint8_t part = dataset.presplit->part[r];
        if (part == TrainPart) {
            split.train.appendRow(all, r);
        } else if (part == TestPart) {
            split.testUser.push_back(all.user[r]);
            split.testItem.push_back(all.item[r]);
        } else if (part == ValidPart && validation) {
            split.validUser.push_back(all.user[r]);
            split.validItem.push_back(all.item[r]);
        }
    }
    if (validation)
        requireValidation(dataset, split.validUser.empty());
    return split;
}

// The sampled evaluator of one held-out part: the negatives saved with a prepared split, else
// evalNegatives drawn from seed.
SampledRankingEvaluator rankingEvaluator(const Dataset& dataset, const std::vector<int32_t>& users,
                                         const std::vector<int32_t>& items, Part part, const UserItemIndex& seen,
                                         const TrainConfig& config, uint64_t seed)
{
    const SplitAssignment* s = dataset.presplit.get();
    const int stored = s ? s->config.effectiveNegatives() : 0;
    if (!s || stored <= 0)
        return SampledRankingEvaluator(users, items, seen, dataset.numItems(), config.evalNegatives, seed);
    std::vector<int32_t> negatives;
    negatives.reserve(users.size() * static_cast<size_t>(stored));
    for (size_t k = 0; k < s->evalRows.size(); ++k)
        if (s->part[s->evalRows[k]] == part)
            negatives.insert(negatives.end(), s->negatives.begin() + static_cast<long>(k) * stored,
                             s->negatives.begin() + static_cast<long>(k + 1) * stored);
    return SampledRankingEvaluator(users, items, negatives, stored);
}

RatioSplit ratingSplit(const Dataset& dataset, const TrainConfig& config)
{
    if (protocolOf(TaskKind::RatingPrediction, config.protocol).predefinedFolds) {
        if (dataset.presplit)
            throw ConfigError("protocol", "a prepared dataset carries its own split; folds needs the MovieLens-100K folder");
        if (!looksLikeMovieLens100k(dataset.source))
            throw ConfigError("protocol", "folds uses MovieLens-100K's u1..u5 .base/.test files, which " + dataset.source +
                                              " does not have");
        RatingFold fold = loadMovieLens100kFold(dataset.source, dataset, config.fold);
        RatioSplit split;
        split.test = std::move(fold.test);
        if (config.validationMetric.empty()) {
            split.train = std::move(fold.train);
            return split;
        }
        // Validation: a seeded validationFraction of the fold's training ratings.
        std::vector<size_t> order(fold.train.size());
        std::iota(order.begin(), order.end(), size_t{0});
        Random rng(config.seed);
        rng.shuffle(order.begin(), order.end());
        const auto nValid = static_cast<size_t>(static_cast<double>(order.size()) * config.validationFraction + 0.5);
        for (size_t k = 0; k < order.size(); ++k)
            (k < nValid ? split.valid : split.train).appendRow(fold.train, order[k]);
        return split;
    }
    const bool validation = !config.validationMetric.empty();
    if (!dataset.presplit)
        return makeRandomRatioSplit(dataset, 1.0 - config.testFraction, config.seed,
                                    validation ? config.validationFraction : 0.0);
    RatioSplit split;
    for (size_t r = 0; r < dataset.interactions.size(); ++r) {
        const uint8_t part = dataset.presplit->part[r];
        if (part == TrainPart)
            split.train.appendRow(dataset.interactions, r);
        else if (part == TestPart)
            split.test.appendRow(dataset.interactions, r);
        else if (part == ValidPart && validation)
            split.valid.appendRow(dataset.interactions, r);
    }
    if (validation)
        requireValidation(dataset, split.valid.size() == 0);
    return split;
}

} // namespace

ModelShape TrainingTask::baseShape() const
{
    ModelShape s = modelShapeOf(dataset_);
    s.train = nullptr; // each task sets its training part
    return s;
}

ImplicitRankingTask::ImplicitRankingTask(const Dataset& dataset, const TrainConfig& config)
    : SplitTask(dataset, rankingSplit(dataset, !config.validationMetric.empty())), negatives_(config.negatives),
      topK_(config.topK), seen_(dataset.interactions, dataset.numUsers())
{
    if (split_.testUser.empty())
        throw DataError(dataset.source, 0, "", "no user has two interactions, so leave-one-out has nothing to test");
    const bool validation = !config.validationMetric.empty();
    if (validation && split_.validUser.empty())
        throw DataError(dataset.source, 0, "", "no user has three interactions, so there is nothing to validate on");
    if (protocolOf(TaskKind::ImplicitRanking, config.protocol).allItems) {
        // Ranked against every item the user did not train on (nor, when testing, validated on);
        // popularity from the training rows.
        std::vector<int64_t> counts(static_cast<size_t>(numItems_), 0);
        for (const int32_t item : split_.train.item)
            ++counts[static_cast<size_t>(item)];
        if (validation) {
            validation_.emplace();
            validation_->full.emplace(split_.validUser, split_.validItem, UserItemIndex(split_.train, numUsers_),
                                      numItems_, counts);
            InteractionTable trainAndValid = split_.train;
            for (size_t k = 0; k < split_.validUser.size(); ++k)
                trainAndValid.append(split_.validUser[k], split_.validItem[k], 1.f, 0);
            full_.emplace(split_.testUser, split_.testItem, UserItemIndex(trainAndValid, numUsers_), numItems_,
                          std::move(counts));
        } else {
            full_.emplace(split_.testUser, split_.testItem, UserItemIndex(split_.train, numUsers_), numItems_,
                          std::move(counts));
        }
    } else {
        sampled_.emplace(rankingEvaluator(dataset, split_.testUser, split_.testItem, TestPart, seen_, config, config.seed));
        if (validation) {
            validation_.emplace();
            validation_->sampled.emplace(rankingEvaluator(dataset, split_.validUser, split_.validItem, ValidPart, seen_,
                                                          config, config.seed ^ 0x5A17ull));
        }
    }
}

ModelShape ImplicitRankingTask::shape() const
{
    ModelShape s = baseShape();
    s.train = &split_.train;
    return s;
}

EpochData implicitFeedbackEpoch(const InteractionTable& train, const UserItemIndex& seen, int32_t numItems, int negatives,
                                Random& rng, InputType input, const EpochShard& shard, const std::vector<int32_t>* pool)
{
    // Negatives are items the user never consumed, drawn afresh each epoch.
    const size_t n = train.size();
    const auto itemCount = static_cast<uint64_t>(pool ? pool->size() : static_cast<size_t>(numItems));
    auto draw = [&] {
        const auto k = static_cast<int32_t>(rng.below(itemCount));
        return pool ? (*pool)[static_cast<size_t>(k)] : k;
    };
    auto drawNegative = [&](int32_t u) {
        // Only while the user left items to draw (from a pool: a share of it, as seen also counts
        // items outside it).
        const bool canSample = pool ? seen.countOf(u) + itemCount / 8 < itemCount : seen.countOf(u) < itemCount;
        auto item = draw();
        while (canSample && seen.contains(u, item))
            item = draw();
        return item;
    };
    if (input == InputType::Pairwise) {
        // `negatives` (user, consumed, unconsumed) triples per training interaction.
        const size_t total = n * static_cast<size_t>(negatives);
        std::vector<int32_t> users(total), items(total), negs(total);
        std::vector<float> labels(total, 1.f);
        size_t k = 0;
        for (size_t r = 0; r < n; ++r)
            for (int j = 0; j < negatives; ++j, ++k) {
                users[k] = train.user[r];
                items[k] = train.item[r];
                negs[k] = drawNegative(train.user[r]);
            }
        return shuffledEpoch(users, items, labels, rng, shard, &negs);
    }
    // Each positive plus `negatives` unconsumed items labelled 0.
    const size_t total = n * static_cast<size_t>(1 + negatives);
    std::vector<int32_t> users(total), items(total);
    std::vector<float> labels(total, 0.f);
    size_t k = 0;
    for (size_t r = 0; r < n; ++r) {
        users[k] = train.user[r];
        items[k] = train.item[r];
        labels[k++] = 1.f;
    }
    for (size_t r = 0; r < n; ++r)
        for (int j = 0; j < negatives; ++j, ++k) {
            users[k] = train.user[r];
            items[k] = drawNegative(train.user[r]);
        }
    return shuffledEpoch(users, items, labels, rng, shard);
}

EpochData ImplicitRankingTask::sampleEpoch(Random& rng, InputType input, const EpochShard& shard) const
{
    return implicitFeedbackEpoch(split_.train, seen_, numItems_, negatives_, rng, input, shard);
}

MetricValues ImplicitRankingTask::evaluate(Recommender& model, const torch::Device& device, UserMetrics* perUser) const
{
    return full_ ? full_->evaluate(model, device, topK_, perUser) : sampled_->evaluate(model, device, topK_, perUser);
}

MetricValues ImplicitRankingTask::Ranker::evaluate(Recommender& model, const torch::Device& device, int k) const
{
    return full ? full->evaluate(model, device, k) : sampled->evaluate(model, device, k);
}

namespace {
[[noreturn]] void noValidation()
{
    throw ConfigError("validation-metric", "this run holds out no validation part");
}
} // namespace

MetricValues ImplicitRankingTask::evaluateValidation(Recommender& model, const torch::Device& device) const
{
    if (!validation_)
        noValidation();
    return validation_->evaluate(model, device, topK_);
}

namespace {
double meanRating(const InteractionTable& t)
{
    if (t.size() == 0)
        return 0.0;
    return std::accumulate(t.rating.begin(), t.rating.end(), 0.0) / static_cast<double>(t.size());
}
} // namespace

RatingPredictionTask::RatingPredictionTask(const Dataset& dataset, const TrainConfig& config)
    : SplitTask(dataset, ratingSplit(dataset, config)),
      globalMean_(meanRating(split_.train)),
      evaluator_(split_.test, dataset.minRating(), dataset.maxRating())
{
    // RMSE over no ratings is undefined; a split that tests nothing or trains on nothing is refused.
    if (split_.test.size() == 0 || split_.train.size() == 0)
        throw DataError(dataset.source, 0, "",
                        "the " + (config.protocol.empty() ? std::string("holdout") : config.protocol) + " split of " +
                            std::to_string(dataset.interactions.size()) + " ratings leaves " +
                            (split_.test.size() == 0 ? "no test ratings" : "no training ratings") +
                            "; rating prediction needs more data");
    if (split_.valid.size() > 0)
        validation_.emplace(split_.valid, dataset.minRating(), dataset.maxRating());
}

ModelShape RatingPredictionTask::shape() const
{
    ModelShape s = baseShape();
    s.globalMean = globalMean_;
    s.train = &split_.train;
    return s;
}

EpochData ratingEpoch(const InteractionTable& train, Random& rng, const EpochShard& shard)
{
    return shuffledEpoch(train.user, train.item, train.rating, rng, shard);
}

EpochData RatingPredictionTask::sampleEpoch(Random& rng, InputType, const EpochShard& shard) const
{
    return ratingEpoch(split_.train, rng, shard);
}

MetricValues RatingPredictionTask::evaluate(Recommender& model, const torch::Device& device, UserMetrics* perUser) const
{
    return evaluator_.evaluate(model, device, perUser);
}

MetricValues RatingPredictionTask::evaluateValidation(Recommender& model, const torch::Device& device) const
{
    if (!validation_)
        noValidation();
    return validation_->evaluate(model, device);
}

namespace {

BehaviourSplit behaviourSplit(const Dataset& dataset, const TrainConfig& config)
{
    if (dataset.presplit)
        throw ConfigError("protocol", "the din protocol splits users itself; load the dataset without its prepared split");
    BehaviourSplitOptions o;
    o.maxHistory = config.historyLength;
    o.trainUserShare = 1.0 - config.testFraction;
    o.validUserShare = config.validationMetric.empty() ? 0.0 : config.validationFraction;
    o.positiveRating = static_cast<float>(config.positiveRating);
    o.seed = config.seed;
    return makeBehaviourSplit(dataset, o);
}
} // namespace

ClickThroughTask::ClickThroughTask(const Dataset& dataset, const TrainConfig& config)
    : SplitTask(dataset, behaviourSplit(dataset, config)), evaluator_(split_.test)
{
    if (split_.train.size() == 0 || split_.test.size() == 0)
        throw DataError(dataset.source, 0, "user", "the din protocol left no training or no test samples");
    // A threshold that labels every sample alike leaves nothing to learn and an undefined AUC.
    const auto& labels = split_.train.label;
    const auto positives = static_cast<size_t>(std::count(labels.begin(), labels.end(), 1.0f));
    if (positives == 0 || positives == labels.size()) {
        char range[96];
        std::snprintf(range, sizeof range, "%g to %g", static_cast<double>(dataset.minRating()),
                      static_cast<double>(dataset.maxRating()));
        throw ConfigError("positive-rating", "a positive rating of " + shortNumber(config.positiveRating) +
                                                 " labels every training sample " + (positives == 0 ? "negative" : "positive") +
                                                 " (the ratings run from " + range + "); choose a threshold inside that range");
    }
    if (!config.validationMetric.empty()) {
        if (split_.valid.size() == 0)
            throw DataError(dataset.source, 0, "user", "the din protocol left no validation samples");
        validation_.emplace(split_.valid);
    }
    itemSampleCounts_ = itemSampleCounts(split_.train, numItems_);
}

ModelShape ClickThroughTask::shape() const
{
    ModelShape s = baseShape();
    s.itemSampleCounts = &itemSampleCounts_;
    return s;
}

EpochData ClickThroughTask::sampleEpoch(Random& rng, InputType, const EpochShard&) const
{
    std::vector<uint32_t> order(split_.train.size());
    std::iota(order.begin(), order.end(), 0u);
    rng.shuffle(order.begin(), order.end());
    BehaviourTensors t = behaviourTensors(split_.train, &order);
    EpochData data;
    data.users = std::move(t.users);
    data.items = std::move(t.items);
    data.labels = std::move(t.labels);
    data.history = std::move(t.history);
    data.historyLength = std::move(t.historyLength);
    return data;
}

MetricValues ClickThroughTask::evaluate(Recommender& model, const torch::Device& device, UserMetrics* perUser) const
{
    return evaluator_.evaluate(model, device, perUser);
}

MetricValues ClickThroughTask::evaluateValidation(Recommender& model, const torch::Device& device) const
{
    if (!validation_)
        noValidation();
    return validation_->evaluate(model, device);
}

std::string TrainingTask::splitFingerprint() const
{
    Fnv1a hash;
    const std::string data = dataset_.fingerprint();
    hash.bytes(data.data(), data.size());
    hashHeldOut(hash);
    return hash.hex();
}

namespace {
void hashTensor(Fnv1a& hash, const torch::Tensor& t)
{
    const torch::Tensor c = t.contiguous();
    const uint64_t n = static_cast<uint64_t>(c.numel());
    hash.bytes(&n, sizeof n);
    hash.bytes(c.data_ptr(), static_cast<size_t>(c.numel()) * c.element_size());
}

void hashSamples(Fnv1a& hash, const BehaviourSamples& s)
{
    hash.column(s.user);
    hash.column(s.item);
    hash.column(s.label);
    hash.column(s.length);
    hash.column(s.history);
}
} // namespace

void ImplicitRankingTask::hashHeldOut(Fnv1a& hash) const
{
    hash.bytes(full_ ? "full" : "loo", 4);
    hash.column(split_.testUser);
    hash.column(split_.testItem);
    hash.column(split_.validUser);
    hash.column(split_.validItem);
    if (sampled_)
        hashTensor(hash, sampled_->candidates());
    if (validation_ && validation_->sampled)
        hashTensor(hash, validation_->sampled->candidates());
}

void RatingPredictionTask::hashHeldOut(Fnv1a& hash) const
{
    for (const InteractionTable* t : {&split_.test, &split_.valid}) {
        hash.column(t->user);
        hash.column(t->item);
        hash.column(t->rating);
    }
}

void ClickThroughTask::hashHeldOut(Fnv1a& hash) const
{
    hashSamples(hash, split_.test);
    hashSamples(hash, split_.valid);
}

} // namespace reclab
