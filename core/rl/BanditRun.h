// Ranking policies run against an environment, step by step: the replay of a dataset's log (Li
// et al. 2010's unbiased offline evaluator, with slates) and a simulator built from a stored run
// (a click model with a known optimum, so regret is defined). Every policy runs in its own lane
// over the same stream of users and the same random draws; curves of cumulative reward, CTR and
// regret are kept as they go. Qt-free; this header is LibTorch-free too (the workbench's views
// include it after Qt's headers).
#pragma once

#include "data/Dataset.h"
#include "rl/SlatePolicy.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace reclab {

struct StoredModel;

enum class BanditEnvironmentKind { Replay, Simulator };

// The simulator's click model (documented in README, "Ranking with bandits"): user u clicks item
// i shown at position k (0 = top) with probability e_k · a(u, i) · f(u, i), drawn independently
// per position:
//   examination e_k = 1 / log2(k + 2);
//   attraction  a(u, i) = σ(s(u, i) + δ_i − c), s the base run's score, δ_i ~ N(0, tasteShift²)
//     a hidden per-item error of the run, c set so that the candidates' mean attraction is
//     meanAttraction;
//   fatigue     f(u, i) = fatigue^(times i was shown to u and not clicked).
// Each step draws a user uniformly from those with interactions; the candidates are the user's
// top `candidates` items of the base run among those the data has no interaction of, less those
// the user clicked in the simulation (consumed: a site does not offer them again). The
// optimum of a step is the candidates by a · f, best at the top; regret is its expected clicks
// minus the shown slate's.
struct SimulatorSettings {
    double tasteShift = 1.0;
    double meanAttraction = 0.3;
    double fatigue = 0.9;
};

struct BanditConfig {
    BanditEnvironmentKind environment = BanditEnvironmentKind::Replay;
    std::vector<PolicyKind> policies;
    int slate = 5;
    int64_t steps = 0;     // 0: the replay's every event; the simulator's 20,000
    uint64_t seed = 42;
    double like = 4;       // replay: ratings at or above it are reward 1, the rest 0
    int arms = 100;        // replay: the items offered, the most-rated ones
    int candidates = 50;   // simulator: each user's candidates from the base run
    ArmPolicySettings arm;
    LinUcbSettings linUcb;
    ReinforceSettings reinforce;
    SimulatorSettings simulator;
    int curvePoints = 200; // points kept per curve
};

struct BanditPoint {
    int64_t step = 0;          // decisions so far (replay: events of the offered items)
    int64_t matched = 0;       // replay: events whose item was in the slate; simulator: steps
    double reward = 0;         // cumulative reward
    double regret = 0;         // simulator: cumulative expected regret
};

// Reward per matched decision (the replay) or per decision (the simulator: clicks per slate), and
// per item whose reaction could be seen (the replay: the same; the simulator: per shown place).
double meanRewardOf(const BanditPoint& p);
double ctrOf(const BanditPoint& p, const BanditConfig& config);

// One decision, for the step-by-step view.
struct BanditStep {
    int64_t step = 0;
    int32_t user = 0;
    std::vector<int32_t> slate;
    int32_t logged = -1;            // replay: the event's item
    bool counted = false;           // replay: whether it matched
    std::vector<Observation> seen;  // rewards revealed
    double regret = 0;              // simulator: this step's expected regret
    std::vector<ItemEstimate> before, after; // the policy's view of the slate's items
};

struct PolicyResult {
    std::string policy;
    int64_t steps = 0, matched = 0;
    double reward = 0;      // cumulative
    double meanReward = 0;  // per matched event (replay) or per step (simulator: clicks per slate)
    double ctr = 0;         // reward per shown item that could be observed (replay: = meanReward)
    double regret = 0;      // simulator
    double seconds = 0;     // the policy's decisions and updates
    std::vector<BanditPoint> curve;
};

class BanditWorld;

// A run of several policies in lockstep. Throws ConfigError before anything starts for a slate
// larger than the candidates, a replay on data without timestamps or ratings, a policy that needs
// a base run without one, and a base run on other data (or one with no user and item vectors
// for LinUCB).
class BanditRun {
public:
    BanditRun(std::shared_ptr<const Dataset> data, std::shared_ptr<StoredModel> base, const BanditConfig& config);
    ~BanditRun();

    int64_t totalSteps() const;
    int64_t stepsDone() const;
    bool finished() const { return stepsDone() >= totalSteps(); }
    // Advances every lane by up to n steps (fewer at the end).
    void advance(int64_t n);
    // One step of lane `lane` with what it saw and how its estimates moved (for the class).
    BanditStep stepOne(size_t lane);
    std::vector<PolicyResult> results() const;
    const BanditConfig& config() const { return config_; }
    const Dataset& data() const;

private:
    struct Lane;
    BanditStep step(size_t lane, bool estimates);
    BanditConfig config_;
    std::shared_ptr<BanditWorld> world_;
    std::vector<std::unique_ptr<Lane>> lanes_;
};

// Runs every step, calling onProgress (with the results so far) about every `every` steps;
// stop ends it early.
std::vector<PolicyResult> runBandits(std::shared_ptr<const Dataset> data, std::shared_ptr<StoredModel> base,
                                     const BanditConfig& config,
                                     const std::function<void(const BanditRun&)>& onProgress = {},
                                     int64_t every = 1000, const std::atomic<bool>* stop = nullptr);

const char* environmentName(BanditEnvironmentKind kind); // "replay", "sim"
BanditEnvironmentKind parseEnvironment(const std::string& name);

} // namespace reclab
