#include "train/Replay.h"

#include "data/Preparation.h"
#include "data/UserItemIndex.h"
#include "graph/GraphAnalysis.h"
#include "models/Recommender.h"
#include "train/FlatOptimizer.h"
#include "train/Trainer.h"
#include "train/TrainingTask.h"
#include "util/Clock.h"
#include "util/Error.h"
#include "util/Random.h"
#include "zoo/ModelFactory.h"
#include "zoo/ModelRegistry.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>

namespace reclab {

RowMaps rowMapsByIds(const Dataset& before, const Dataset& after)
{
    const auto mapOf = [](const std::vector<std::string>& from, const std::vector<std::string>& to) {
        std::unordered_map<std::string_view, int64_t> index;
        index.reserve(to.size());
        for (size_t k = 0; k < to.size(); ++k)
            index.emplace(to[k], static_cast<int64_t>(k));
        std::vector<int64_t> out(from.size(), -1);
        for (size_t k = 0; k < from.size(); ++k)
            if (const auto it = index.find(from[k]); it != index.end())
                out[k] = it->second;
        return out;
    };
    RowMaps m;
    m.users = mapOf(before.userIds, after.userIds);
    m.items = mapOf(before.itemIds, after.itemIds);
    m.newUsers = after.numUsers();
    m.newItems = after.numItems();
    return m;
}

void growInto(Recommender& fresh, const Recommender& old, const RowMaps& maps)
{
    torch::NoGradGuard noGrad;
    const auto before = old.named_parameters(true);
    const auto oldUsers = static_cast<int64_t>(maps.users.size()), oldItems = static_cast<int64_t>(maps.items.size());
    for (auto& p : fresh.named_parameters(true)) {
        const torch::Tensor* o = before.find(p.key());
        if (!o)
            throw Error("the earlier model has no parameter '" + p.key() + "' (another model?)");
        torch::Tensor& t = p.value();
        const bool rowsOnly = t.dim() == o->dim() && t.dim() >= 1 && t.sizes().slice(1) == o->sizes().slice(1);
        // A user or item table of the mapped data: its rows move to their new places.
        const bool users = rowsOnly && !maps.empty() && o->size(0) == oldUsers && t.size(0) == maps.newUsers;
        const bool items = rowsOnly && !maps.empty() && o->size(0) == oldItems && t.size(0) == maps.newItems;
        if (users || items) {
            const bool asUsers = users && items ? p.key().find("item") == std::string::npos : users;
            const std::vector<int64_t>& to = asUsers ? maps.users : maps.items;
            std::vector<int64_t> from, at;
            for (size_t k = 0; k < to.size(); ++k)
                if (to[k] >= 0) {
                    from.push_back(static_cast<int64_t>(k));
                    at.push_back(to[k]);
                }
            t.index_copy_(0, torch::tensor(at, torch::kLong).to(t.device()),
                          o->index_select(0, torch::tensor(from, torch::kLong).to(o->device())).to(t.device()));
        } else if (t.sizes() == o->sizes()) {
            t.copy_(*o);
        } else if (rowsOnly && maps.empty() && t.size(0) >= o->size(0)) {
            t.narrow(0, 0, o->size(0)).copy_(*o);
        } else {
            std::ostringstream s;
            s << "parameter '" << p.key() << "' cannot be carried from " << o->sizes() << " to " << t.sizes();
            throw Error(s.str());
        }
    }
}

void continueFrom(Trainer& trainer, std::shared_ptr<const Recommender> stored, const Dataset& storedData,
                  const Dataset& newData)
{
    auto maps = std::make_shared<const RowMaps>(rowMapsByIds(storedData, newData));
    trainer.setStartWeights([stored, maps](Recommender& fresh) { growInto(fresh, *stored, *maps); });
}

namespace {

constexpr int64_t kSecondsPerDay = 86400;

std::string dateOf(int64_t day)
{
    const std::time_t t = static_cast<std::time_t>(day * kSecondsPerDay);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[16];
    std::strftime(text, sizeof text, "%Y-%m-%d", &tm);
    return text;
}

int64_t dayOf(int64_t timestamp)
{
    return timestamp >= 0 ? timestamp / kSecondsPerDay : -((-timestamp + kSecondsPerDay - 1) / kSecondsPerDay);
}

// The models a replay can update: trained ranking models over ids (and side fields).
void requireReplayable(const Dataset& data, const TrainConfig& c)
{
    if (taskOf(c) != TaskKind::ImplicitRanking)
        throw ConfigError("model", "the replay ranks each day's interactions; '" + c.model +
                                       "' is not a ranking model (try gmf, mlp, neumf, bpr or profiles)");
    const ModelInfo* info = c.customGraph() ? nullptr : findModel(c.model);
    if (info && !info->trainable)
        throw ConfigError("model", "'" + c.model + "' is computed from counts: it has nothing to update (train it again)");
    if (info && info->family != ModelFamily::General)
        throw ConfigError("model", "'" + c.model + "' reads behaviour histories; the replay updates models over ids");
    if (c.customGraph() || (info && info->graph)) {
        const GraphAnalysis analysis = analyseGraph(graphFor(c), graphContextOf(data));
        if (analysis.textSources)
            throw ConfigError("model", "'" + c.model + "' reads item text, whose vocabulary changes with each day's "
                                                       "data; the replay updates models over ids and profile fields");
        if (analysis.usesHistory)
            throw ConfigError("model", "the graph reads behaviour histories; the replay updates models over ids");
    }
}

std::shared_ptr<Recommender> buildFor(const Dataset& data, const TrainConfig& c, const torch::Device& device)
{
    const ModelShape s = modelShapeOf(data);
    torch::manual_seed(c.seed);
    auto model = c.customGraph() ? compileGraph(graphFor(c), s, c) : createModel(*findModel(c.model), s, c);
    model->to(device);
    return model;
}

// epochs passes over rows (each with `negatives` fresh unconsumed items, never in seen).
void trainOn(Recommender& model, const InteractionTable& rows, const UserItemIndex& seen, int32_t numItems, int epochs,
             const TrainConfig& c, Random& rng, const torch::Device& device, const std::atomic<bool>* stop)
{
    FlatOptimizer optimizer(model.parameters(), optimizerOptionsOf(c));
    model.train();
    for (int e = 0; e < epochs && !(stop && stop->load()); ++e) {
        const EpochData d = implicitFeedbackEpoch(rows, seen, numItems, c.negatives, rng, model.inputType(), {});
        const auto to = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : torch::Tensor(); };
        const auto users = to(d.users), items = to(d.items), labels = to(d.labels), negItems = to(d.negItems);
        const int64_t n = users.size(0);
        for (int64_t start = 0; start < n; start += c.batchSize) {
            const int64_t len = std::min<int64_t>(c.batchSize, n - start);
            const auto part = [&](const torch::Tensor& t) { return t.defined() ? t.narrow(0, start, len) : torch::Tensor(); };
            const Batch batch{part(users), part(items), part(labels), part(negItems), {}, {}, {}, {}};
            optimizer.zeroGrad();
            model.calculateLoss(batch).backward();
            optimizer.step();
        }
    }
    model.eval();
}

// A day's test cases: each interaction's item first, then `negatives` items the user has not
// interacted with up to the day's end, drawn once so both models rank the same lists.
struct DayCases {
    torch::Tensor users, items; // [cases * (1 + negatives)]
    int64_t cases = 0, width = 0;
};

DayCases dayCases(const InteractionTable& day, const UserItemIndex& seen, int32_t numItems, int negatives, Random& rng)
{
    DayCases out;
    out.cases = static_cast<int64_t>(day.size());
    out.width = 1 + negatives;
    std::vector<int64_t> users, items;
    users.reserve(static_cast<size_t>(out.cases * out.width));
    items.reserve(users.capacity());
    for (size_t r = 0; r < day.size(); ++r) {
        const int32_t u = day.user[r];
        users.insert(users.end(), static_cast<size_t>(out.width), u);
        items.push_back(day.item[r]);
        for (int k = 0; k < negatives; ++k) {
            int32_t j = 0;
            for (int tries = 0; tries < 1000; ++tries) {
                j = static_cast<int32_t>(rng.below(static_cast<uint64_t>(numItems)));
                if (!seen.contains(u, j))
                    break;
            }
            items.push_back(j);
        }
    }
    out.users = torch::tensor(users, torch::kLong);
    out.items = torch::tensor(items, torch::kLong);
    return out;
}

// HR@10 and NDCG@10 of the cases (rank: how many negatives score above the interaction's item).
std::pair<double, double> rankCases(Recommender& model, const DayCases& cases, const torch::Device& device)
{
    if (cases.cases == 0)
        return {0.0, 0.0};
    torch::NoGradGuard noGrad;
    model.eval();
    const torch::Tensor scores =
        model.predict(cases.users.to(device), cases.items.to(device)).reshape({cases.cases, cases.width}).cpu();
    const torch::Tensor rank = scores.narrow(1, 1, cases.width - 1).gt(scores.narrow(1, 0, 1)).sum(1);
    const torch::Tensor hit = rank.lt(10);
    const double hr = hit.to(torch::kDouble).mean().item<double>();
    const double ndcg =
        (hit.to(torch::kDouble) / torch::log2(rank.to(torch::kDouble) + 2.0)).mean().item<double>();
    return {hr, ndcg};
}

} // namespace

ReplayResult replayDays(const Dataset& data, const ReplayConfig& config,
                        const std::function<void(const ReplayDay&)>& onDay, const std::atomic<bool>* stop)
{
    const TrainConfig& c = config.train;
    if (config.days < 1 || config.days > 365)
        throw ConfigError("days", "expected 1 to 365 days to replay, got " + std::to_string(config.days));
    if (config.updateEpochs < 1 || config.updateEpochs > 100)
        throw ConfigError("update-epochs", "expected 1 to 100, got " + std::to_string(config.updateEpochs));
    if (!(config.earlierRows >= 0 && config.earlierRows <= 100))
        throw ConfigError("earlier-rows", "expected 0 to 100 earlier rows per new row");
    if (config.negatives < 1 || config.negatives > 10000)
        throw ConfigError("negatives", "expected 1 to 10000 sampled negatives per test interaction");
    requireReplayable(data, c);
    const InteractionTable& all = data.interactions;
    if (std::all_of(all.timestamp.begin(), all.timestamp.end(), [](int64_t t) { return t == 0; }))
        throw ConfigError("days", "the data has no timestamps, so it has no days to replay");
    std::set<int64_t> distinct;
    for (const int64_t t : all.timestamp)
        distinct.insert(dayOf(t));
    if (static_cast<int64_t>(distinct.size()) <= config.days)
        throw ConfigError("days", "the data has interactions on " + std::to_string(distinct.size()) +
                                      " days; replaying " + std::to_string(config.days) +
                                      " needs at least one more day before them to train on");
    const std::vector<int64_t> days(std::prev(distinct.end(), config.days), distinct.end());

    useThreads(c.threads);
    const torch::Device device(c.device);
    // Users and items numbered by first use: every earlier cut's numbers are a prefix.
    const Dataset ordered = keepRows(data, std::vector<char>(all.size(), 1), true);
    const auto cut = [&](auto&& keepDay) {
        std::vector<char> keep(ordered.interactions.size());
        for (size_t r = 0; r < keep.size(); ++r)
            keep[r] = keepDay(dayOf(ordered.interactions.timestamp[r])) ? 1 : 0;
        return keep;
    };

    ReplayResult result;
    auto sofar = std::make_shared<Dataset>(keepRows(ordered, cut([&](int64_t d) { return d < days.front(); }), true));
    result.baseRows = static_cast<int64_t>(sofar->interactions.size());
    Random rng(c.seed);
    const auto baseStart = SteadyClock::now();
    std::shared_ptr<Recommender> incremental = buildFor(*sofar, c, device);
    trainOn(*incremental, sofar->interactions, UserItemIndex(sofar->interactions, static_cast<int32_t>(sofar->numUsers())),
            static_cast<int32_t>(sofar->numItems()), c.epochs, c, rng, device, stop);
    result.baseSeconds = secondsSince(baseStart);
    std::shared_ptr<Recommender> retrained = incremental;

    for (const int64_t day : days) {
        if (stop && stop->load())
            break;
        ReplayDay r;
        r.day = day;
        r.date = dateOf(day);
        auto through = std::make_shared<Dataset>(keepRows(ordered, cut([&](int64_t d) { return d <= day; }), true));
        InteractionTable rows; // the day's rows, in `through`'s numbers
        for (size_t k = 0; k < through->interactions.size(); ++k)
            if (dayOf(through->interactions.timestamp[k]) == day)
                rows.append(through->interactions.user[k], through->interactions.item[k],
                            through->interactions.rating[k], through->interactions.timestamp[k]);
        r.rows = static_cast<int64_t>(rows.size());
        r.users = static_cast<int64_t>(std::set<int32_t>(rows.user.begin(), rows.user.end()).size());
        r.newUsers = through->numUsers() - sofar->numUsers();
        r.newItems = through->numItems() - sofar->numItems();
        const auto numItems = static_cast<int32_t>(through->numItems());
        const UserItemIndex seen(through->interactions, static_cast<int32_t>(through->numUsers()));
        Random caseDraws(c.seed + static_cast<uint64_t>(day));
        const DayCases cases = dayCases(rows, seen, numItems, config.negatives, caseDraws);

        // Incremental: the tables grow (new rows fresh), the day is ranked, then trained on.
        const auto updateStart = SteadyClock::now();
        auto grown = buildFor(*through, c, device);
        growInto(*grown, *incremental);
        double updateSeconds = secondsSince(updateStart);
        std::tie(r.hrIncremental, r.ndcgIncremental) = rankCases(*grown, cases, device);
        const auto trainStart = SteadyClock::now();
        InteractionTable update = rows;
        const auto earlier = static_cast<uint64_t>(sofar->interactions.size());
        const auto extra = static_cast<int64_t>(std::llround(config.earlierRows * static_cast<double>(rows.size())));
        for (int64_t k = 0; k < extra && earlier > 0; ++k) {
            const auto e = static_cast<size_t>(rng.below(earlier));
            update.append(sofar->interactions.user[e], sofar->interactions.item[e], sofar->interactions.rating[e],
                          sofar->interactions.timestamp[e]);
        }
        trainOn(*grown, update, seen, numItems, config.updateEpochs, c, rng, device, stop);
        r.secondsIncremental = updateSeconds + secondsSince(trainStart);
        incremental = grown;

        // Retrained: yesterday's full model (its new rows fresh) ranks the day, then a fresh
        // model trains on everything up to the day's end.
        if (config.retrain) {
            auto old = buildFor(*through, c, device);
            growInto(*old, *retrained);
            std::tie(r.hrRetrained, r.ndcgRetrained) = rankCases(*old, cases, device);
            const auto retrainStart = SteadyClock::now();
            retrained = buildFor(*through, c, device);
            trainOn(*retrained, through->interactions, seen, numItems, c.epochs, c, rng, device, stop);
            r.secondsRetrained = secondsSince(retrainStart);
        }
        sofar = through;
        result.days.push_back(r);
        if (onDay)
            onDay(r);
    }
    return result;
}

} // namespace reclab
