#include "rl/BanditRecords.h"

#include "store/ExperimentStore.h"
#include "util/Clock.h"
#include "util/Hash.h"

#include <nlohmann/json.hpp>


namespace reclab {

namespace {

nlohmann::json banditParams(const BanditConfig& c, const std::string& policy, int64_t baseRun)
{
    const bool replay = c.environment == BanditEnvironmentKind::Replay;
    nlohmann::json b{{"env", environmentName(c.environment)}, {"policy", policy}, {"slate", c.slate},
                     {"steps", c.steps}, {"base_run", baseRun}};
    if (replay) {
        b["like"] = c.like;
        b["arms"] = c.arms;
    } else {
        b["candidates"] = c.candidates;
        b["fatigue"] = c.simulator.fatigue;
        b["taste_shift"] = c.simulator.tasteShift;
        b["mean_attraction"] = c.simulator.meanAttraction;
    }
    if (policy == "egreedy")
        b["epsilon"] = c.arm.epsilon;
    else if (policy == "ucb")
        b["ucb_scale"] = c.arm.ucbScale;
    else if (policy == "exp3")
        b["gamma"] = c.arm.exp3Gamma;
    else if (policy == "linucb")
        b["alpha"] = c.linUcb.alpha;
    else if (policy == "reinforce")
        b.update({{"lr", c.reinforce.learningRate}, {"temperature", c.reinforce.temperature}, {"batch", c.reinforce.batch}});
    return {{"model", kBanditModel}, {"seed", c.seed}, {"protocol", std::string("bandit ") + environmentName(c.environment)},
            {"bandit", b}};
}

} // namespace

BanditRecorder::BanditRecorder(const std::string& databasePath, const BanditRun& run, int64_t baseRun)
    : store_(std::make_unique<ExperimentStore>(databasePath))
{
    ExperimentStore& store = *store_;
    const Dataset& data = run.data();
    const BanditConfig& c = run.config();
    for (const PolicyResult& r : run.results()) {
        RunRecord record;
        record.model = kBanditModel;
        record.name = r.policy + ", " + environmentName(c.environment);
        record.dataset = data.name;
        record.datasetSource = data.source;
        record.datasetFingerprint = data.fingerprint();
        record.paramsJson = banditParams(c, r.policy, baseRun).dump();
        record.seed = static_cast<int64_t>(c.seed);
        record.parentRunId = baseRun;
        record.tags = {"bandit"};
        runIds_.push_back(store.beginRun(record));
        store.setTags(runIds_.back(), {"bandit", environmentName(c.environment)});
    }
    recorded_.assign(runIds_.size(), 0);
    // The policies of one start share its environment (data, events or simulated users, draws):
    // their runs compare directly, as runs of one split do.
    nlohmann::json setup = banditParams(c, "", baseRun);
    setup["bandit"].erase("policy");
    Fnv1a h;
    h.strings({data.fingerprint(), setup.dump()});
    for (const int64_t id : runIds_)
        store.setSplitFingerprint(id, "bandit-" + h.hex());
}

namespace {

void addPoint(std::vector<MetricPoint>& points, const BanditPoint& c, const BanditConfig& config, double now)
{
    points.push_back({"reward", c.step, 1, c.reward, now});
    points.push_back({"mean_reward", c.step, 1, meanRewardOf(c), now});
    points.push_back({"ctr", c.step, 1, ctrOf(c, config), now});
    if (config.environment == BanditEnvironmentKind::Replay)
        points.push_back({"matched", c.step, 1, static_cast<double>(c.matched), now});
    else
        points.push_back({"regret", c.step, 1, c.regret, now});
}

} // namespace

BanditRecorder::~BanditRecorder()
{
    if (finished_)
        return;
    try {
        for (const int64_t id : runIds_)
            store_->finishRun(id, RunStatus::Interrupted, "ended before its last decision");
    } catch (const std::exception&) { // a destructor does not throw; the next start recovers them
    }
}

void BanditRecorder::record(const BanditRun& run)
{
    ExperimentStore& store = *store_;
    const auto results = run.results();
    const double now = unixTimeNow();
    for (size_t p = 0; p < results.size() && p < runIds_.size(); ++p) {
        std::vector<MetricPoint> points;
        const auto& curve = results[p].curve;
        for (size_t k = recorded_[p]; k < curve.size(); ++k)
            addPoint(points, curve[k], run.config(), now);
        recorded_[p] = curve.size();
        if (!points.empty())
            store.recordMetrics(runIds_[p], points);
    }
}

void BanditRecorder::finish(const BanditRun& run, RunStatus status, const std::string& message)
{
    record(run);
    ExperimentStore& store = *store_;
    const auto results = run.results();
    const double now = unixTimeNow();
    for (size_t p = 0; p < results.size() && p < runIds_.size(); ++p) {
        const PolicyResult& r = results[p];
        std::vector<MetricPoint> points;
        if (r.curve.empty() || r.curve.back().step != r.steps) // stopped between curve points
            addPoint(points, {r.steps, r.matched, r.reward, r.regret}, run.config(), now);
        points.push_back({"decisions_per_second", r.steps, 1, r.seconds > 0 ? static_cast<double>(r.steps) / r.seconds : 0.0, now});
        points.push_back({"policy_seconds", r.steps, 1, r.seconds, now});
        store.recordMetrics(runIds_[p], points);
        store.finishRun(runIds_[p], status, message);
    }
    finished_ = true;
}

} // namespace reclab
