#include "rl/SlatePolicy.h"

#include "util/Error.h"

#include <boost/math/special_functions/beta.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace reclab {

namespace {

// Per-arm counts and reward sums; each policy ranks the candidates by its own index.
class ArmPolicy : public SlatePolicy {
public:
    ArmPolicy(int64_t numItems, uint64_t seed)
        : pulls_(static_cast<size_t>(numItems), 0), sums_(static_cast<size_t>(numItems), 0.0), rng_(seed)
    {
    }

    void choose(int32_t user, const std::vector<int32_t>& candidates, int k, std::vector<int32_t>& slate) override
    {
        scores_.resize(candidates.size());
        for (size_t c = 0; c < candidates.size(); ++c)
            // A jitter far below any index difference breaks ties at random.
            scores_[c] = index(user, candidates[c]) + 1e-9 * rng_.uniform();
        topByScore(candidates, scores_, k, slate);
    }

    void update(int32_t, const std::vector<int32_t>&, const std::vector<Observation>& seen) override
    {
        for (const Observation& o : seen) {
            ++pulls_[static_cast<size_t>(o.item)];
            sums_[static_cast<size_t>(o.item)] += o.reward;
            ++total_;
            learn(o);
        }
    }

    ItemEstimate estimate(int32_t user, int32_t item) const override
    {
        const auto i = static_cast<size_t>(item);
        return {mean(item), const_cast<ArmPolicy*>(this)->peek(user, item), pulls_[i]};
    }

protected:
    virtual double index(int32_t user, int32_t item) = 0;
    // The index without drawing (random and Thompson show their mean instead).
    virtual double peek(int32_t user, int32_t item) { return index(user, item); }
    virtual void learn(const Observation&) {}
    double mean(int32_t item) const
    {
        const auto i = static_cast<size_t>(item);
        return pulls_[i] > 0 ? sums_[i] / static_cast<double>(pulls_[i]) : 0.0;
    }

    std::vector<int64_t> pulls_;
    std::vector<double> sums_;
    int64_t total_ = 0;
    Random rng_;
    std::vector<double> scores_;
};

class RandomPolicy : public ArmPolicy {
    using ArmPolicy::ArmPolicy;
    double index(int32_t, int32_t) override { return rng_.uniform(); }
    double peek(int32_t, int32_t item) override { return mean(item); }
};

class PopularityPolicy : public ArmPolicy {
public:
    PopularityPolicy(int64_t numItems, uint64_t seed, std::vector<double> counts) : ArmPolicy(numItems, seed), counts_(std::move(counts))
    {
        counts_.resize(static_cast<size_t>(numItems), 0.0);
    }
    void logged(int32_t, int32_t item) override { ++counts_[static_cast<size_t>(item)]; }

private:
    double index(int32_t, int32_t item) override { return counts_[static_cast<size_t>(item)]; }
    std::vector<double> counts_;
};

class EpsilonGreedyPolicy : public ArmPolicy {
public:
    EpsilonGreedyPolicy(int64_t numItems, uint64_t seed, double epsilon) : ArmPolicy(numItems, seed), epsilon_(epsilon) {}
    void choose(int32_t user, const std::vector<int32_t>& candidates, int k, std::vector<int32_t>& slate) override
    {
        explore_ = rng_.uniform() < epsilon_;
        ArmPolicy::choose(user, candidates, k, slate);
    }

private:
    double index(int32_t, int32_t item) override { return explore_ ? rng_.uniform() : mean(item); }
    double peek(int32_t, int32_t item) override { return mean(item); }
    double epsilon_;
    bool explore_ = false;
};

// UCB1 (Auer et al. 2002): mean + scale · sqrt(2 ln t / n); unseen arms first.
class UcbPolicy : public ArmPolicy {
public:
    UcbPolicy(int64_t numItems, uint64_t seed, double scale) : ArmPolicy(numItems, seed), scale_(scale) {}

private:
    double index(int32_t, int32_t item) override
    {
        const int64_t n = pulls_[static_cast<size_t>(item)];
        if (n == 0)
            return 1e9;
        return mean(item) + scale_ * std::sqrt(2.0 * std::log(static_cast<double>(total_ + 1)) / static_cast<double>(n));
    }
    double scale_;
};

// Bayes-UCB (Kaufmann et al. 2012, c = 0): the 1 − 1/t quantile of the Beta(1 + s, 1 + n − s)
// posterior of each arm's reward rate.
class BayesUcbPolicy : public ArmPolicy {
public:
    BayesUcbPolicy(int64_t numItems, uint64_t seed)
        : ArmPolicy(numItems, seed), quantile_(static_cast<size_t>(numItems)), at_(static_cast<size_t>(numItems), -2),
          pullsAt_(static_cast<size_t>(numItems), -1)
    {
    }

private:
    double index(int32_t, int32_t item) override
    {
        const auto i = static_cast<size_t>(item);
        // Recomputed when the arm's counts change, or t grew by 1% (the level hardly moves).
        if (pulls_[i] != pullsAt_[i] || static_cast<double>(total_ + 2) > 1.01 * static_cast<double>(at_[i] + 2)) {
            const double level = 1.0 - 1.0 / static_cast<double>(total_ + 2);
            quantile_[i] = boost::math::ibeta_inv(1.0 + sums_[i], 1.0 + static_cast<double>(pulls_[i]) - sums_[i], level);
            at_[i] = total_;
            pullsAt_[i] = pulls_[i];
        }
        return quantile_[i];
    }
    // The step view's read leaves the cache alone, so looking never changes what the policy does.
    double peek(int32_t, int32_t item) override
    {
        const auto i = static_cast<size_t>(item);
        return boost::math::ibeta_inv(1.0 + sums_[i], 1.0 + static_cast<double>(pulls_[i]) - sums_[i],
                                      1.0 - 1.0 / static_cast<double>(total_ + 2));
    }
    std::vector<double> quantile_;
    std::vector<int64_t> at_, pullsAt_;
};

// Thompson sampling with Beta–Bernoulli posteriors (rewards in [0, 1] count as fractional
// successes).
class ThompsonPolicy : public ArmPolicy {
    using ArmPolicy::ArmPolicy;
    double index(int32_t, int32_t item) override
    {
        const auto i = static_cast<size_t>(item);
        return betaDraw(rng_, 1.0 + sums_[i], 1.0 + static_cast<double>(pulls_[i]) - sums_[i]);
    }
    double peek(int32_t, int32_t item) override
    {
        const auto i = static_cast<size_t>(item);
        return (1.0 + sums_[i]) / (2.0 + static_cast<double>(pulls_[i]));
    }
};

// EXP3 (Auer et al. 2002) for slates: p = (1 − γ) · softmax(log w) + γ / n over the candidates,
// the slate drawn from p without replacement; an observed reward r of item i raises log w_i by
// k · γ · r / (n · min(1, k · p_i)) (Exp3.M's step for slates of k, Uchiya et al. 2010), k · p_i
// standing in for the chance that i was in the slate.
class Exp3Policy : public ArmPolicy {
public:
    Exp3Policy(int64_t numItems, uint64_t seed, double gamma)
        : ArmPolicy(numItems, seed), logWeights_(static_cast<size_t>(numItems), 0.0),
          lastP_(static_cast<size_t>(numItems), 1.0), gamma_(gamma)
    {
    }

    void choose(int32_t, const std::vector<int32_t>& candidates, int k, std::vector<int32_t>& slate) override
    {
        probabilities(candidates, k);
        // Without replacement by exponential clocks: the k smallest E_i / p_i.
        scores_.resize(candidates.size());
        for (size_t c = 0; c < candidates.size(); ++c)
            scores_[c] = -rng_.exponential(1.0) / std::max(p_[c], 1e-300);
        topByScore(candidates, scores_, k, slate);
    }

private:
    void probabilities(const std::vector<int32_t>& candidates, int k)
    {
        const size_t n = candidates.size();
        p_.resize(n);
        double top = -std::numeric_limits<double>::infinity(), sum = 0;
        for (size_t c = 0; c < n; ++c)
            top = std::max(top, logWeights_[static_cast<size_t>(candidates[c])]);
        for (size_t c = 0; c < n; ++c)
            sum += (p_[c] = std::exp(logWeights_[static_cast<size_t>(candidates[c])] - top));
        for (size_t c = 0; c < n; ++c) {
            p_[c] = (1.0 - gamma_) * p_[c] / sum + gamma_ / static_cast<double>(n);
            lastP_[static_cast<size_t>(candidates[c])] = p_[c];
        }
        arms_ = static_cast<double>(n);
        k_ = k;
    }
    double index(int32_t, int32_t item) override { return logWeights_[static_cast<size_t>(item)]; }
    void learn(const Observation& o) override
    {
        const double p = lastP_[static_cast<size_t>(o.item)];
        logWeights_[static_cast<size_t>(o.item)] += k_ * gamma_ * o.reward / (arms_ * std::min(1.0, k_ * p));
    }
    std::vector<double> logWeights_, p_, lastP_; // lastP_: each item's p when last offered
    double gamma_, arms_ = 1;
    int k_ = 1;
};

} // namespace

const char* policyName(PolicyKind kind)
{
    switch (kind) {
    case PolicyKind::Random: return "random";
    case PolicyKind::Popularity: return "pop";
    case PolicyKind::EpsilonGreedy: return "egreedy";
    case PolicyKind::Ucb: return "ucb";
    case PolicyKind::BayesUcb: return "bayes-ucb";
    case PolicyKind::Thompson: return "thompson";
    case PolicyKind::Exp3: return "exp3";
    case PolicyKind::LinUcb: return "linucb";
    case PolicyKind::Reinforce: return "reinforce";
    case PolicyKind::Base: return "base";
    }
    return "random";
}

const std::vector<PolicyKind>& allPolicies()
{
    static const std::vector<PolicyKind> all = {PolicyKind::Random,   PolicyKind::Popularity, PolicyKind::EpsilonGreedy,
                                                PolicyKind::Ucb,      PolicyKind::BayesUcb,   PolicyKind::Thompson,
                                                PolicyKind::Exp3,     PolicyKind::LinUcb,     PolicyKind::Reinforce,
                                                PolicyKind::Base};
    return all;
}

PolicyKind parsePolicy(const std::string& name)
{
    std::string all;
    for (const PolicyKind k : allPolicies()) {
        if (name == policyName(k))
            return k;
        all += std::string(all.empty() ? "" : ", ") + policyName(k);
    }
    throw ConfigError("policy", "'" + name + "' is not a policy (" + all + ")");
}

bool policyNeedsBase(PolicyKind kind)
{
    return kind == PolicyKind::LinUcb || kind == PolicyKind::Reinforce || kind == PolicyKind::Base;
}

std::unique_ptr<SlatePolicy> makeArmPolicy(PolicyKind kind, int64_t numItems, const ArmPolicySettings& s, uint64_t seed,
                                           std::vector<double> popularity)
{
    switch (kind) {
    case PolicyKind::Random: return std::make_unique<RandomPolicy>(numItems, seed);
    case PolicyKind::Popularity: return std::make_unique<PopularityPolicy>(numItems, seed, std::move(popularity));
    case PolicyKind::EpsilonGreedy: return std::make_unique<EpsilonGreedyPolicy>(numItems, seed, s.epsilon);
    case PolicyKind::Ucb: return std::make_unique<UcbPolicy>(numItems, seed, s.ucbScale);
    case PolicyKind::BayesUcb: return std::make_unique<BayesUcbPolicy>(numItems, seed);
    case PolicyKind::Thompson: return std::make_unique<ThompsonPolicy>(numItems, seed);
    case PolicyKind::Exp3: return std::make_unique<Exp3Policy>(numItems, seed, s.exp3Gamma);
    default: break;
    }
    throw ConfigError("policy", std::string(policyName(kind)) + " is not a per-item policy");
}

void topByScore(const std::vector<int32_t>& candidates, const std::vector<double>& scores, int k,
                std::vector<int32_t>& slate)
{
    const size_t n = candidates.size(), take = std::min(n, static_cast<size_t>(std::max(k, 0)));
    thread_local std::vector<uint32_t> order;
    order.resize(n);
    std::iota(order.begin(), order.end(), 0u);
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(take), order.end(),
                      [&](uint32_t a, uint32_t b) { return scores[a] > scores[b] || (scores[a] == scores[b] && a < b); });
    slate.resize(take);
    for (size_t j = 0; j < take; ++j)
        slate[j] = candidates[order[j]];
}

double gammaDraw(Random& rng, double shape)
{
    if (shape < 1.0) // Gamma(a) = Gamma(a + 1) · U^(1/a)
        return gammaDraw(rng, shape + 1.0) * std::pow(std::max(rng.uniform(), 1e-300), 1.0 / shape);
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = rng.normal();
            v = 1.0 + c * x;
        } while (v <= 0);
        v = v * v * v;
        const double u = rng.uniform();
        if (u < 1.0 - 0.0331 * x * x * x * x || std::log(std::max(u, 1e-300)) < 0.5 * x * x + d * (1.0 - v + std::log(v)))
            return d * v;
    }
}

double betaDraw(Random& rng, double a, double b)
{
    const double x = gammaDraw(rng, a), y = gammaDraw(rng, b);
    return x + y > 0 ? x / (x + y) : 0.5;
}

} // namespace reclab
