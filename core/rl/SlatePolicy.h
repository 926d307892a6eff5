// Policies that choose a slate of items for a user and learn from the user's reaction: the
// interface every ranking policy of the bandit runs implements (core/rl/BanditRun.h), and the
// policies that keep statistics per item (arm): random, popularity, ε-greedy, UCB1, Bayes-UCB,
// Thompson sampling and EXP3. LinUCB (LinUcb.h) and the REINFORCE re-ranker (ReinforcePolicy.h)
// implement the same interface. Rewards lie in [0, 1]. Qt-free, LibTorch-free.
#pragma once

#include "util/Random.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace reclab {

// What one step revealed about a shown item: its place in the slate (0 = top) and its reward.
struct Observation {
    int32_t item = 0;
    int position = 0;
    double reward = 0;
};

// A policy's view of one item for one user, for the step-by-step view: its mean reward so far,
// the number the policy ranks by (mean plus bonus, a sample, a weight...) and how often it was
// observed.
struct ItemEstimate {
    double mean = 0;
    double index = 0;
    int64_t observations = 0;
};

class SlatePolicy {
public:
    virtual ~SlatePolicy() = default;
    // Fills slate with min(k, candidates.size()) distinct candidates, best first.
    virtual void choose(int32_t user, const std::vector<int32_t>& candidates, int k, std::vector<int32_t>& slate) = 0;
    // The rewards the step revealed (the replay: the logged item when it was in the slate; the
    // simulator: every shown item).
    virtual void update(int32_t user, const std::vector<int32_t>& slate, const std::vector<Observation>& seen) = 0;
    // An event of the log, whether or not it matched a slate (what a site sees of its traffic).
    virtual void logged(int32_t /*user*/, int32_t /*item*/) {}
    // The policy's current view of item for user (after the last choose for index).
    virtual ItemEstimate estimate(int32_t user, int32_t item) const = 0;
};

enum class PolicyKind { Random, Popularity, EpsilonGreedy, Ucb, BayesUcb, Thompson, Exp3, LinUcb, Reinforce, Base };
const char* policyName(PolicyKind kind); // "random", "pop", "egreedy", "ucb", "bayes-ucb", "thompson", "exp3", "linucb", "reinforce", "base"
// Every policy, in that order.
const std::vector<PolicyKind>& allPolicies();
PolicyKind parsePolicy(const std::string& name); // ConfigError naming the choices
// Whether the policy reads a base run (its vectors or scores).
bool policyNeedsBase(PolicyKind kind);

struct ArmPolicySettings {
    double epsilon = 0.1;   // ε-greedy: the share of steps whose slate is drawn at random
    double ucbScale = 1.0;  // UCB1: mean + scale · sqrt(2 ln t / n)
    double exp3Gamma = 0.1; // EXP3: the uniform share of its probabilities
};

struct LinUcbSettings {
    double alpha = 1.0;  // the width of the confidence bonus
    double ridge = 1.0;  // λ of the ridge regression (A starts as λ I)
};

struct ReinforceSettings {
    double learningRate = 0.01;
    double temperature = 1.0; // the divisor of the base scores' z-scores among the candidates
    int batch = 32;           // steps between updates
    double weightCap = 10.0;  // off-policy: the importance weight's cap
};

// random, pop, egreedy, ucb, bayes-ucb, thompson or exp3 over numItems arms. popularity: the
// counts pop starts from (the simulator: the data's interactions per item; the replay starts at
// zero and counts the log as it goes).
std::unique_ptr<SlatePolicy> makeArmPolicy(PolicyKind kind, int64_t numItems, const ArmPolicySettings& settings,
                                           uint64_t seed, std::vector<double> popularity = {});

// The k candidates with the highest scores (scores aligned with candidates), best first; ties
// keep the candidates' order.
void topByScore(const std::vector<int32_t>& candidates, const std::vector<double>& scores, int k,
                std::vector<int32_t>& slate);

// One key per (user, item) pair, for the tables of what was shown to whom.
inline uint64_t userItemKey(int32_t user, int32_t item)
{
    return (static_cast<uint64_t>(static_cast<uint32_t>(user)) << 32) | static_cast<uint32_t>(item);
}

// A Gamma(shape, 1) draw (Marsaglia and Tsang 2000) and a Beta(a, b) draw from two of them.
double gammaDraw(Random& rng, double shape);
double betaDraw(Random& rng, double a, double b);

} // namespace reclab
