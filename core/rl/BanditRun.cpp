#include "rl/BanditRun.h"

#include "rl/LearnedPolicies.h"

#include "graph/GraphTemplates.h"
#include "inspection/StoredRun.h"
#include "models/ModelShape.h"
#include "models/Recommender.h"
#include "train/EmbeddingSnapshots.h"
#include "util/Clock.h"
#include "util/Error.h"
#include "zoo/ModelFactory.h"

#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace reclab {

namespace {

double examination(int position) { return 1.0 / std::log2(static_cast<double>(position) + 2.0); }

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

constexpr int64_t kMaxScores = int64_t{1} << 26; // base scores kept: users × columns

} // namespace

// What every lane shares: the data, the base run's scores and vectors, the replay's events and
// offered items, the simulator's users, candidates and hidden taste shifts.
class BanditWorld {
public:
    std::shared_ptr<const Dataset> data;
    std::shared_ptr<StoredModel> base;
    // Replay: events of offered items in time order; offered items; their column in `scores`.
    std::vector<size_t> events;
    std::vector<int32_t> arms;
    std::vector<int32_t> column; // item -> column of scores (-1: none)
    int64_t columns = 0;
    std::vector<float> scores;   // users × columns of base scores (when there is a base run)
    // Simulator.
    std::vector<int32_t> users;                      // users with interactions
    std::vector<std::vector<int32_t>> candidates;    // per user
    std::vector<double> shift;                       // δ_i
    double offset = 0;                               // c
    std::vector<double> popularity;                  // interactions per item

    double baseScore(int32_t user, int32_t item) const
    {
        const int32_t c = column[static_cast<size_t>(item)];
        return c < 0 ? 0.0 : scores[static_cast<size_t>(user) * static_cast<size_t>(columns) + static_cast<size_t>(c)];
    }
    double attraction(int32_t user, int32_t item) const
    {
        return sigmoid(baseScore(user, item) + shift[static_cast<size_t>(item)] - offset);
    }
};

namespace {

void requireConfig(const Dataset& data, const StoredModel* base, const BanditConfig& c)
{
    if (c.policies.empty())
        throw ConfigError("policy", "name at least one policy");
    if (c.slate < 1)
        throw ConfigError("slate", "the slate needs at least one item");
    for (const PolicyKind k : c.policies)
        if (policyNeedsBase(k) && !base)
            throw ConfigError("base-run", std::string(policyName(k)) + " re-ranks a stored run's scores: give --base-run");
    if (c.environment == BanditEnvironmentKind::Simulator && !base)
        throw ConfigError("base-run", "the simulator's clicks come from a stored run's scores: give --base-run");
    if (base)
        requireSameData(base->run, data, "use its scores here");
    if (data.interactions.size() == 0)
        throw ConfigError("data", "the data has no interactions");
    if (c.environment == BanditEnvironmentKind::Replay) {
        const auto& t = data.interactions.timestamp;
        if (std::all_of(t.begin(), t.end(), [](int64_t v) { return v == 0; }))
            throw ConfigError("env", "the replay needs the log's order, and the data has no timestamps");
        if (data.minRating() == data.maxRating())
            throw ConfigError("env", "the replay needs feedback to reward, and every interaction has rating " +
                                         std::to_string(data.minRating()) + " (implicit data)");
        const int offered = std::min(c.arms, data.numItems());
        if (c.slate > offered)
            throw ConfigError("slate", "a slate of " + std::to_string(c.slate) + " from " + std::to_string(offered) +
                                           " offered items: the slate cannot be larger than the candidates");
    } else if (c.slate > c.candidates) {
        throw ConfigError("slate", "a slate of " + std::to_string(c.slate) + " from " + std::to_string(c.candidates) +
                                       " candidates per user: the slate cannot be larger than the candidates");
    }
}

// The base run's scores of `cols` for every user (all items when cols is empty).
std::vector<float> scoresOf(Recommender& model, int64_t numUsers, const std::vector<int32_t>& cols, int64_t numItems)
{
    torch::NoGradGuard noGrad;
    model.eval();
    const int64_t width = cols.empty() ? numItems : static_cast<int64_t>(cols.size());
    std::vector<float> out(static_cast<size_t>(numUsers * width));
    const auto index = torch::tensor(std::vector<int64_t>(cols.begin(), cols.end()), torch::kLong);
    for (int64_t start = 0; start < numUsers; start += 256) {
        const int64_t n = std::min<int64_t>(256, numUsers - start);
        auto s = model.fullSortPredict(torch::arange(start, start + n, torch::kLong)).to(torch::kCPU, torch::kFloat);
        if (!cols.empty())
            s = s.index_select(1, index);
        s = s.contiguous();
        std::copy(s.data_ptr<float>(), s.data_ptr<float>() + s.numel(), out.begin() + start * width);
    }
    return out;
}

std::shared_ptr<BanditWorld> buildWorld(std::shared_ptr<const Dataset> data, std::shared_ptr<StoredModel> base,
                                        const BanditConfig& c)
{
    auto w = std::make_shared<BanditWorld>();
    w->data = data;
    w->base = base;
    const Dataset& d = *data;
    const auto& rows = d.interactions;
    const auto numItems = static_cast<size_t>(d.numItems());
    w->popularity.assign(numItems, 0.0);
    for (size_t r = 0; r < rows.size(); ++r)
        ++w->popularity[static_cast<size_t>(rows.item[r])];
    w->column.assign(numItems, -1);
    if (c.environment == BanditEnvironmentKind::Replay) {
        std::vector<int32_t> byCount(numItems);
        std::iota(byCount.begin(), byCount.end(), 0);
        std::stable_sort(byCount.begin(), byCount.end(), [&](int32_t a, int32_t b) {
            return w->popularity[static_cast<size_t>(a)] > w->popularity[static_cast<size_t>(b)];
        });
        w->arms.assign(byCount.begin(), byCount.begin() + std::min<size_t>(numItems, static_cast<size_t>(c.arms)));
        for (size_t a = 0; a < w->arms.size(); ++a)
            w->column[static_cast<size_t>(w->arms[a])] = static_cast<int32_t>(a);
        for (size_t r = 0; r < rows.size(); ++r)
            if (w->column[static_cast<size_t>(rows.item[r])] >= 0)
                w->events.push_back(r);
        std::stable_sort(w->events.begin(), w->events.end(),
                         [&](size_t a, size_t b) { return rows.timestamp[a] < rows.timestamp[b]; });
        w->columns = static_cast<int64_t>(w->arms.size());
        if (base) {
            if (d.numUsers() * w->columns > kMaxScores)
                throw ConfigError("arms", "the base run's scores of " + std::to_string(d.numUsers()) + " users × " +
                                              std::to_string(w->columns) + " items are too many to keep; offer fewer items");
            w->scores = scoresOf(*base->model, d.numUsers(), w->arms, d.numItems());
        }
        return w;
    }
    // The simulator.
    if (static_cast<int64_t>(d.numUsers()) * d.numItems() > kMaxScores)
        throw ConfigError("env", "the simulator keeps the base run's score of every user and item, and " +
                                     std::to_string(d.numUsers()) + " × " + std::to_string(d.numItems()) +
                                     " are too many; use the replay or smaller data");
    for (size_t i = 0; i < numItems; ++i)
        w->column[i] = static_cast<int32_t>(i);
    w->columns = d.numItems();
    w->scores = scoresOf(*base->model, d.numUsers(), {}, d.numItems());
    Random taste(c.seed ^ 0x7a57e5ULL);
    w->shift.resize(numItems);
    for (double& s : w->shift)
        s = c.simulator.tasteShift * taste.normal();
    std::vector<std::vector<int32_t>> seen(static_cast<size_t>(d.numUsers()));
    for (size_t r = 0; r < rows.size(); ++r)
        seen[static_cast<size_t>(rows.user[r])].push_back(rows.item[r]);
    w->candidates.resize(static_cast<size_t>(d.numUsers()));
    std::vector<double> logits;
    for (int32_t u = 0; u < d.numUsers(); ++u) {
        auto& own = seen[static_cast<size_t>(u)];
        if (own.empty())
            continue;
        w->users.push_back(u);
        std::sort(own.begin(), own.end());
        std::vector<int32_t> unseen;
        std::vector<double> s;
        for (int32_t i = 0; i < d.numItems(); ++i)
            if (!std::binary_search(own.begin(), own.end(), i)) {
                unseen.push_back(i);
                s.push_back(w->baseScore(u, i));
            }
        if (static_cast<int>(unseen.size()) < c.candidates)
            throw ConfigError("candidates", "user " + d.userIds[static_cast<size_t>(u)] + " has only " +
                                                std::to_string(unseen.size()) + " items left to offer, fewer than " +
                                                std::to_string(c.candidates) + " candidates");
        topByScore(unseen, s, c.candidates, w->candidates[static_cast<size_t>(u)]);
        for (const int32_t i : w->candidates[static_cast<size_t>(u)])
            logits.push_back(w->baseScore(u, i) + w->shift[static_cast<size_t>(i)]);
    }
    // c: the candidates' mean attraction σ(s + δ − c) is meanAttraction (bisection).
    double lo = -100, hi = 100;
    for (int it = 0; it < 100; ++it) {
        const double mid = 0.5 * (lo + hi);
        double mean = 0;
        for (const double l : logits)
            mean += sigmoid(l - mid);
        mean /= static_cast<double>(std::max<size_t>(logits.size(), 1));
        (mean > c.simulator.meanAttraction ? lo : hi) = mid;
    }
    w->offset = 0.5 * (lo + hi);
    return w;
}

} // namespace

struct BanditRun::Lane {
    PolicyKind kind = PolicyKind::Random;
    std::unique_ptr<SlatePolicy> policy;
    int64_t position = 0;
    Random users, clicks;
    std::unordered_map<uint64_t, int32_t> shows; // simulator: times shown unclicked; -1 once clicked
    PolicyResult result;
    std::vector<int32_t> slate, offered;
    Lane(uint64_t seed) : users(seed ^ 0x5e55u), clicks(seed ^ 0xc11cu) {}
};

BanditRun::BanditRun(std::shared_ptr<const Dataset> data, std::shared_ptr<StoredModel> base, const BanditConfig& config)
    : config_(config)
{
    requireConfig(*data, base.get(), config);
    world_ = buildWorld(data, base, config);
    const bool replay = config.environment == BanditEnvironmentKind::Replay;
    if (config_.steps <= 0)
        config_.steps = replay ? static_cast<int64_t>(world_->events.size()) : 20000;
    if (replay)
        config_.steps = std::min<int64_t>(config_.steps, static_cast<int64_t>(world_->events.size()));
    const BanditWorld* w = world_.get();
    const BaseScore baseScore = [w](int32_t u, int32_t i) { return w->baseScore(u, i); };
    for (size_t p = 0; p < config.policies.size(); ++p) {
        const PolicyKind kind = config.policies[p];
        auto lane = std::make_unique<Lane>(config.seed);
        lane->kind = kind;
        lane->result.policy = policyName(kind);
        const uint64_t policySeed = config.seed * 1000003ULL + static_cast<uint64_t>(kind);
        if (kind == PolicyKind::Base) {
            lane->policy = makeBaseRanking(baseScore);
        } else if (kind == PolicyKind::LinUcb) {
            const auto tables = embeddingTables(*base->model, data->numUsers(), data->numItems());
            torch::Tensor users, items;
            for (const auto& t : tables)
                if (t.kind == "users" && !users.defined())
                    users = t.weights;
            for (const auto& t : tables)
                if (t.kind == "items" && !items.defined() && users.defined() && t.weights.size(1) == users.size(1))
                    items = t.weights;
            if (!users.defined() || !items.defined())
                throw ConfigError("base-run", "LinUCB reads a run's user and item vectors of one width, and run " +
                                                  std::to_string(base->run.id) + " (" + base->run.model + ") has none");
            lane->policy = makeLinUcb(users, items, config.linUcb);
        } else if (kind == PolicyKind::Reinforce) {
            torch::manual_seed(policySeed);
            TrainConfig netConfig;
            netConfig.model = "reinforce";
            auto net = compileGraph(graphTemplate("reinforce"), modelShapeOf(*data), netConfig);
            lane->policy = makeReinforce(net, baseScore, config.reinforce, policySeed, replay);
        } else {
            lane->policy = makeArmPolicy(kind, data->numItems(), config.arm, policySeed,
                                         replay ? std::vector<double>{} : world_->popularity);
        }
        lanes_.push_back(std::move(lane));
    }
}

BanditRun::~BanditRun() = default;

const Dataset& BanditRun::data() const { return *world_->data; }

int64_t BanditRun::totalSteps() const { return config_.steps; }

int64_t BanditRun::stepsDone() const { return lanes_.empty() ? 0 : lanes_.front()->result.steps; }

BanditStep BanditRun::stepOne(size_t lane) { return step(lane, true); }

BanditStep BanditRun::step(size_t index, bool estimates)
{
    Lane& lane = *lanes_.at(index);
    const BanditWorld& w = *world_;
    BanditStep step;
    step.step = lane.result.steps;
    const auto started = SteadyClock::now();
    const bool replay = config_.environment == BanditEnvironmentKind::Replay;
    const std::vector<int32_t>* candidates = nullptr;
    int32_t user = 0;
    size_t row = 0;
    if (replay) {
        row = w.events[static_cast<size_t>(lane.position++)];
        user = w.data->interactions.user[row];
        candidates = &w.arms;
    } else {
        user = w.users[lane.users.below(w.users.size())];
        // What the user clicked before is consumed and not offered again.
        lane.offered.clear();
        for (const int32_t i : w.candidates[static_cast<size_t>(user)]) {
            const auto it = lane.shows.find(userItemKey(user, i));
            if (it == lane.shows.end() || it->second >= 0)
                lane.offered.push_back(i);
        }
        candidates = &lane.offered;
    }
    step.user = user;
    lane.policy->choose(user, *candidates, config_.slate, lane.slate);
    if (estimates) // for the step view only: LinUCB's costs as much as scoring the item
        for (const int32_t i : lane.slate)
            step.before.push_back(lane.policy->estimate(user, i));
    if (replay) {
        const int32_t item = w.data->interactions.item[row];
        step.logged = item;
        const auto at = std::find(lane.slate.begin(), lane.slate.end(), item);
        if (at != lane.slate.end()) {
            const double reward = w.data->interactions.rating[row] >= config_.like ? 1.0 : 0.0;
            step.counted = true;
            step.seen.push_back({item, static_cast<int>(at - lane.slate.begin()), reward});
            lane.policy->update(user, lane.slate, step.seen);
            ++lane.result.matched;
            lane.result.reward += reward;
        }
        lane.policy->logged(user, item);
    } else {
        const SimulatorSettings& s = config_.simulator;
        auto appeal = [&](int32_t i) {
            const auto it = lane.shows.find(userItemKey(user, i));
            const int32_t n = it == lane.shows.end() ? 0 : it->second;
            return w.attraction(user, i) * std::pow(s.fatigue, n);
        };
        std::vector<double> all;
        for (const int32_t i : *candidates)
            all.push_back(appeal(i));
        std::sort(all.begin(), all.end(), std::greater<double>());
        double best = 0, expected = 0;
        for (size_t k = 0; k < lane.slate.size(); ++k) {
            best += examination(static_cast<int>(k)) * all[k];
            const double p = examination(static_cast<int>(k)) * appeal(lane.slate[k]);
            expected += p;
            const double click = lane.clicks.uniform() < p ? 1.0 : 0.0;
            step.seen.push_back({lane.slate[k], static_cast<int>(k), click});
        }
        step.counted = true;
        step.regret = best - expected;
        lane.policy->update(user, lane.slate, step.seen);
        for (const Observation& o : step.seen) {
            int32_t& n = lane.shows[userItemKey(user, o.item)];
            n = o.reward > 0 ? -1 : n + 1; // clicked: consumed (-1) from now on
            lane.result.reward += o.reward;
        }
        ++lane.result.matched;
        lane.result.regret += step.regret;
    }
    if (estimates)
        for (const int32_t i : lane.slate)
            step.after.push_back(lane.policy->estimate(user, i));
    step.slate = lane.slate;
    lane.result.seconds += secondsSince(started);
    ++lane.result.steps;
    const int64_t every = std::max<int64_t>(1, config_.steps / std::max(config_.curvePoints, 1));
    if (lane.result.steps % every == 0 || lane.result.steps == config_.steps)
        lane.result.curve.push_back({lane.result.steps, lane.result.matched, lane.result.reward, lane.result.regret});
    return step;
}

void BanditRun::advance(int64_t n)
{
    const int64_t end = std::min(config_.steps, stepsDone() + n);
    for (size_t l = 0; l < lanes_.size(); ++l)
        while (lanes_[l]->result.steps < end)
            step(l, false);
}

std::vector<PolicyResult> BanditRun::results() const
{
    std::vector<PolicyResult> out;
    for (const auto& lane : lanes_) {
        PolicyResult r = lane->result;
        const BanditPoint now{r.steps, r.matched, r.reward, r.regret};
        r.meanReward = meanRewardOf(now);
        r.ctr = ctrOf(now, config_);
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<PolicyResult> runBandits(std::shared_ptr<const Dataset> data, std::shared_ptr<StoredModel> base,
                                     const BanditConfig& config, const std::function<void(const BanditRun&)>& onProgress,
                                     int64_t every, const std::atomic<bool>* stop)
{
    BanditRun run(std::move(data), std::move(base), config);
    while (!run.finished() && !(stop && stop->load())) {
        run.advance(std::max<int64_t>(every, 1));
        if (onProgress)
            onProgress(run);
    }
    return run.results();
}

double meanRewardOf(const BanditPoint& p) { return p.reward / static_cast<double>(std::max<int64_t>(p.matched, 1)); }

double ctrOf(const BanditPoint& p, const BanditConfig& c)
{
    return c.environment == BanditEnvironmentKind::Replay ? meanRewardOf(p) : meanRewardOf(p) / c.slate;
}

const char* environmentName(BanditEnvironmentKind kind)
{
    return kind == BanditEnvironmentKind::Replay ? "replay" : "sim";
}

BanditEnvironmentKind parseEnvironment(const std::string& name)
{
    if (name == "replay")
        return BanditEnvironmentKind::Replay;
    if (name == "sim" || name == "simulator")
        return BanditEnvironmentKind::Simulator;
    throw ConfigError("env", "'" + name + "' is not an environment (replay or sim)");
}

} // namespace reclab
