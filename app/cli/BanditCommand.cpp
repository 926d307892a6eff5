#include "BanditCommand.h"
#include "CliErrors.h"
#include "Commands.h"
#include "OptionChecks.h"
#include "StopSignals.h"

#include "data/DatasetSource.h"
#include "inspection/StoredRun.h"
#include "rl/BanditRecords.h"
#include "rl/BanditRun.h"
#include "store/ExperimentStore.h"
#include "util/Error.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace reclab::cli {

namespace {

std::atomic<bool> stopAsked{false};
void onSignal(int) { stopAsked.store(true); }

std::vector<PolicyKind> policyList(const BanditCliOptions& o, bool hasBase)
{
    std::vector<PolicyKind> out;
    if (o.policies.empty()) { // every policy that can run: those reading a base run only with one
        for (const PolicyKind k : allPolicies())
            if (hasBase || !policyNeedsBase(k))
                out.push_back(k);
        return out;
    }
    std::stringstream in(o.policies);
    std::string name;
    while (std::getline(in, name, ','))
        if (!name.empty())
            out.push_back(parsePolicy(name));
    return out;
}

nlohmann::json resultJson(const PolicyResult& r, bool simulator, bool final)
{
    nlohmann::json j{{"policy", r.policy}, {"steps", r.steps}, {"reward", r.reward}};
    if (simulator)
        j["regret"] = r.regret;
    else
        j["matched"] = r.matched;
    if (final) {
        j["mean_reward"] = r.meanReward;
        j["ctr"] = r.ctr;
        j["seconds"] = r.seconds;
        j["decisions_per_second"] = r.seconds > 0 ? static_cast<double>(r.steps) / r.seconds : 0.0;
    }
    return j;
}

} // namespace

void addBanditCommand(CLI::App& app, BanditCliOptions& o)
{
    auto* cmd = addCommand(app, "bandit");
    cmd->add_option("--data", o.data, "Dataset (default: the base run's, else the bundled sample)");
    cmd->add_option("--env", o.env, "replay (the log, Li et al. 2010's offline evaluator) or sim (a simulator built from --base-run)")
        ->check(CLI::IsMember({"replay", "sim"}));
    cmd->add_option("--base-run", o.baseRun, "A stored run: the simulator's click model, LinUCB's vectors, the re-ranker's base scores")
        ->check(wholeNumberIn(1, 1e18));
    cmd->add_option("--db", o.db, "Experiment database of the base run (default: the user's)");
    cmd->add_option("--policy,--policies", o.policies,
                    "Comma-separated: random, pop, egreedy, ucb, bayes-ucb, thompson, exp3, linucb, reinforce, base "
                    "(default: the first seven, and the last three with --base-run)");
    cmd->add_option("--slate", o.slate, "Items shown per decision (default 5)")->check(wholeNumberIn(1, 1000));
    cmd->add_option("--steps", o.steps, "Decisions (default: the replay's every event of the offered items; 20000 in the simulator)")
        ->check(wholeNumberIn(1, 1e12));
    cmd->add_option("--seed", o.seed, "Seed (default 42)")->check(seedNumber());
    cmd->add_option("--like", o.like, "Replay: ratings at or above it are reward 1 (default 4)")->check(numberIn(-1e9, 1e9));
    cmd->add_option("--arms", o.arms, "Replay: the items offered, the most-rated (default 100)")->check(wholeNumberIn(1, 1e7));
    cmd->add_option("--candidates", o.candidates, "Simulator: each user's candidates, the base run's top (default 50)")
        ->check(wholeNumberIn(1, 1e6));
    cmd->add_option("--fatigue", o.fatigue, "Simulator: each earlier showing of an item to the user multiplies its click chance by this (default 0.9)")
        ->check(numberIn(0, 1));
    cmd->add_option("--taste-shift", o.tasteShift, "Simulator: the spread of the hidden per-item error of the base run (default 1)")
        ->check(numberIn(0, 10));
    cmd->add_option("--epsilon", o.epsilon, "egreedy: the share of random slates (default 0.1)")->check(numberIn(0, 1));
    cmd->add_option("--alpha", o.alpha, "linucb: the confidence bonus' width (default 1)")->check(numberIn(0, 100));
    cmd->add_option("--lr", o.learningRate, "reinforce: Adam's learning rate (default 0.01)")->check(numberIn(0, 10, true));
    cmd->add_option("--temperature", o.temperature, "reinforce: τ, the divisor of the base scores' z-scores in its softmax (default 1)")
        ->check(numberIn(0, 100, true));
    cmd->add_option("--every", o.every, "Progress every this many decisions (default: a hundredth of the run)")
        ->check(wholeNumberIn(1, 1e12));
    cmd->add_flag("--json", o.json, "Progress objects, then one object per policy");
}

int runBanditCommand(const BanditCliOptions& o)
{
    BanditConfig config;
    std::shared_ptr<StoredModel> base;
    std::shared_ptr<const Dataset> data;
    try {
        config.environment = parseEnvironment(o.env);
        if (o.baseRun > 0) {
            const std::string db = o.db.empty() ? defaultDatabasePath() : o.db;
            findStoredRun(db, o.baseRun);
            base = std::make_shared<StoredModel>(loadStoredModel(db, o.baseRun, nullptr, o.data));
            data = base->data;
        } else {
            data = std::make_shared<const Dataset>(loadDataset(o.data.empty() ? "sample" : o.data));
        }
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
    config.policies = policyList(o, base != nullptr);
    config.slate = o.slate;
    config.steps = o.steps;
    config.seed = o.seed;
    config.like = o.like;
    config.arms = o.arms;
    config.candidates = o.candidates;
    config.arm.epsilon = o.epsilon;
    config.simulator.fatigue = o.fatigue;
    config.simulator.tasteShift = o.tasteShift;
    config.linUcb.alpha = o.alpha;
    config.reinforce.learningRate = o.learningRate;
    config.reinforce.temperature = o.temperature;
    const bool simulator = config.environment == BanditEnvironmentKind::Simulator;
    std::unique_ptr<BanditRun> run;
    try {
        run = std::make_unique<BanditRun>(data, base, config);
    } catch (const ConfigError& e) {
        std::cerr << "reclab-cli: " << oneLine(e.what()) << std::endl;
        return 2;
    }
    std::unique_ptr<BanditRecorder> recorder;
    try {
        recorder = std::make_unique<BanditRecorder>(o.db.empty() ? defaultDatabasePath() : o.db, *run, o.baseRun);
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
    const int64_t every = o.every > 0 ? o.every : std::max<int64_t>(1, run->totalSteps() / 100);
    const StopSignals signals(onSignal);
    while (!run->finished()) {
        if (stopAsked.load()) {
            recorder->finish(*run, RunStatus::Stopped, "stopped at decision " + std::to_string(run->stepsDone()));
            std::cerr << "reclab-cli: stopped at decision " << run->stepsDone() << std::endl;
            return 130;
        }
        run->advance(every);
        recorder->record(*run);
        if (!o.json)
            continue;
        nlohmann::json line{{"step", run->stepsDone()}, {"total", run->totalSteps()}, {"policies", nlohmann::json::array()}};
        for (const PolicyResult& r : run->results())
            line["policies"].push_back(resultJson(r, simulator, false));
        std::cout << line.dump() << '\n';
    }
    recorder->finish(*run, RunStatus::Finished);
    const auto results = run->results();
    if (o.json) {
        for (size_t p = 0; p < results.size(); ++p) {
            auto line = resultJson(results[p], simulator, true);
            line["run"] = recorder->runIds()[p];
            std::cout << line.dump() << '\n';
        }
        std::cout.flush();
        return 0;
    }
    std::printf("%s, %lld decisions, slate %d, seed %llu\n", simulator ? "simulator" : "replay",
                static_cast<long long>(run->totalSteps()), o.slate, static_cast<unsigned long long>(o.seed));
    std::printf("%-10s %12s %10s %12s %14s\n", "policy", "mean reward", simulator ? "CTR" : "matched",
                simulator ? "regret" : "", "decisions/s");
    for (size_t p = 0; p < results.size(); ++p) {
        const PolicyResult& r = results[p];
        std::printf("%-10s %12.4f ", r.policy.c_str(), r.meanReward);
        if (simulator)
            std::printf("%10.4f %12.1f", r.ctr, r.regret);
        else
            std::printf("%10lld %12s", static_cast<long long>(r.matched), "");
        std::printf(" %14.0f   run %lld\n", r.seconds > 0 ? static_cast<double>(r.steps) / r.seconds : 0.0,
                    static_cast<long long>(recorder->runIds()[p]));
    }
    return 0;
}

} // namespace reclab::cli
