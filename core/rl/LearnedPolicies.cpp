#include "rl/LearnedPolicies.h"

#include "models/Recommender.h"
#include "util/Error.h"

#include <torch/nn/functional/activation.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace reclab {

namespace {

// Each row scaled so that the table's mean squared entry is 1.
std::vector<float> unitScale(const torch::Tensor& t)
{
    auto x = t.to(torch::kCPU, torch::kFloat).contiguous();
    const double rms = std::sqrt(x.pow(2).mean().item<double>());
    if (rms > 0)
        x = x / rms;
    return {x.data_ptr<float>(), x.data_ptr<float>() + x.numel()};
}

class LinUcbPolicy : public SlatePolicy {
public:
    LinUcbPolicy(const torch::Tensor& users, const torch::Tensor& items, const LinUcbSettings& s)
        : users_(unitScale(users)), items_(unitScale(items)), d_(users.size(1)), dims_(static_cast<size_t>(d_) + 2),
          settings_(s), inverse_(dims_ * dims_, 0.0), b_(dims_, 0.0), theta_(dims_, 0.0), x_(dims_), ax_(dims_),
          beta_(static_cast<size_t>(items.size(0)), 0.0), residuals_(beta_.size(), 0.0), counts_(beta_.size(), 0),
          rewards_(beta_.size(), 0.0)
    {
        if (users.size(1) != items.size(1))
            throw ConfigError("base-run", "LinUCB needs user and item vectors of one width");
        for (size_t k = 0; k < dims_; ++k)
            inverse_[k * dims_ + k] = 1.0 / s.ridge;
    }

    // The candidates' widths xᵀA⁻¹x in one float GEMM (X A⁻¹, then row dots): the replay of
    // every ml-100k item offers 1,682 candidates of 66 features per decision.
    void choose(int32_t user, const std::vector<int32_t>& candidates, int k, std::vector<int32_t>& slate) override
    {
        const auto n = static_cast<int64_t>(candidates.size()), dims = static_cast<int64_t>(dims_);
        features_.resize(candidates.size() * dims_);
        for (size_t c = 0; c < candidates.size(); ++c) {
            features(user, candidates[c]);
            std::copy(x_.begin(), x_.end(), features_.begin() + static_cast<std::ptrdiff_t>(c * dims_));
        }
        if (!inverseFloat_.defined()) {
            std::vector<float> a(inverse_.begin(), inverse_.end());
            inverseFloat_ = torch::from_blob(a.data(), {dims, dims}, torch::kFloat).clone();
        }
        const auto x = torch::from_blob(features_.data(), {n, dims}, torch::kFloat);
        const auto widths = (torch::mm(x, inverseFloat_) * x).sum(1).contiguous();
        const float* w = widths.data_ptr<float>();
        scores_.resize(candidates.size());
        for (size_t c = 0; c < candidates.size(); ++c) {
            const auto i = static_cast<size_t>(candidates[c]);
            const float* f = features_.data() + c * dims_;
            double fitted = 0;
            for (size_t j = 0; j < dims_; ++j)
                fitted += theta_[j] * f[j];
            const double width = static_cast<double>(w[c]) + 1.0 / (settings_.ridge + static_cast<double>(counts_[i]));
            scores_[c] = fitted + beta_[i] + settings_.alpha * std::sqrt(std::max(width, 0.0));
        }
        topByScore(candidates, scores_, k, slate);
    }

    void update(int32_t user, const std::vector<int32_t>& slate, const std::vector<Observation>& seen) override
    {
        for (const Observation& o : seen) {
            features(user, o.item);
            const auto i = static_cast<size_t>(o.item);
            const double fitted = dot(theta_, x_);
            residuals_[i] += o.reward - fitted;
            ++counts_[i];
            rewards_[i] += o.reward;
            // Sherman–Morrison: (A + x xᵀ)⁻¹ = A⁻¹ − A⁻¹x xᵀA⁻¹ / (1 + xᵀA⁻¹x); A⁻¹ is symmetric.
            multiply(x_, ax_);
            const double denominator = 1.0 + dot(x_, ax_);
            for (size_t r = 0; r < dims_; ++r)
                for (size_t c = 0; c < dims_; ++c)
                    inverse_[r * dims_ + c] -= ax_[r] * ax_[c] / denominator;
            inverseFloat_ = torch::Tensor(); // A⁻¹ moved
            for (size_t r = 0; r < dims_; ++r)
                b_[r] += x_[r] * (o.reward - beta_[i]);
            multiply(b_, theta_);
            beta_[i] = residuals_[i] / (settings_.ridge + static_cast<double>(counts_[i]));
        }
        for (const int32_t item : slate)
            ++shows_[userItemKey(user, item)];
    }

    ItemEstimate estimate(int32_t user, int32_t item) const override
    {
        const auto i = static_cast<size_t>(item);
        auto* self = const_cast<LinUcbPolicy*>(this);
        return {counts_[i] > 0 ? rewards_[i] / static_cast<double>(counts_[i]) : 0.0, self->score(user, item), counts_[i]};
    }

private:
    void features(int32_t user, int32_t item)
    {
        const float* u = users_.data() + static_cast<size_t>(user) * static_cast<size_t>(d_);
        const float* v = items_.data() + static_cast<size_t>(item) * static_cast<size_t>(d_);
        for (int64_t k = 0; k < d_; ++k)
            x_[static_cast<size_t>(k)] = static_cast<double>(u[k]) * v[k] / std::sqrt(static_cast<double>(d_));
        x_[static_cast<size_t>(d_)] = 1.0;
        const auto it = shows_.find(userItemKey(user, item));
        x_[static_cast<size_t>(d_) + 1] = std::log1p(it == shows_.end() ? 0.0 : static_cast<double>(it->second));
    }
    double score(int32_t user, int32_t item)
    {
        features(user, item);
        multiply(x_, ax_);
        const auto i = static_cast<size_t>(item);
        const double width = dot(x_, ax_) + 1.0 / (settings_.ridge + static_cast<double>(counts_[i]));
        return dot(theta_, x_) + beta_[i] + settings_.alpha * std::sqrt(std::max(width, 0.0));
    }
    void multiply(const std::vector<double>& v, std::vector<double>& out) const
    {
        for (size_t r = 0; r < dims_; ++r) {
            double sum = 0;
            const double* row = inverse_.data() + r * dims_;
            for (size_t c = 0; c < dims_; ++c)
                sum += row[c] * v[c];
            out[r] = sum;
        }
    }
    static double dot(const std::vector<double>& a, const std::vector<double>& b)
    {
        double sum = 0;
        for (size_t k = 0; k < a.size(); ++k)
            sum += a[k] * b[k];
        return sum;
    }

    std::vector<float> users_, items_;
    int64_t d_;
    size_t dims_;
    LinUcbSettings settings_;
    std::vector<double> inverse_, b_, theta_, x_, ax_, beta_, residuals_;
    std::vector<int64_t> counts_;
    std::vector<double> rewards_, scores_;
    std::vector<float> features_; // the candidates' x, row by row
    torch::Tensor inverseFloat_;  // A⁻¹ as float, until the next update
    std::unordered_map<uint64_t, int32_t> shows_;
};

class ReinforcePolicy : public SlatePolicy {
    struct Record {
        int32_t user = 0;
        std::vector<int32_t> candidates;
        std::vector<double> base;            // the candidates' base scores / τ
        std::vector<Observation> seen;       // positions index the slate
        std::vector<int64_t> observedIndex;  // each observation's place among the candidates
        std::vector<double> behaviour;       // off-policy: β of each observed item
        int k = 0;
    };

public:
    ReinforcePolicy(std::shared_ptr<Recommender> net, BaseScore base, const ReinforceSettings& s, uint64_t seed, bool offPolicy)
        : net_(std::move(net)), base_(std::move(base)), settings_(s), rng_(seed), offPolicy_(offPolicy),
          adam_(net_->parameters(), torch::optim::AdamOptions(s.learningRate)),
          device_(net_->parameters().empty() ? torch::Device(torch::kCPU) : net_->parameters().front().device())
    {
        net_->eval();
    }

    void choose(int32_t user, const std::vector<int32_t>& candidates, int k, std::vector<int32_t>& slate) override
    {
        last_.user = user;
        last_.candidates = candidates;
        last_.k = k;
        // The base scores as z-scores among the candidates, over τ.
        last_.base.resize(candidates.size());
        double mean = 0, square = 0;
        for (size_t c = 0; c < candidates.size(); ++c) {
            last_.base[c] = base_(user, candidates[c]);
            mean += last_.base[c];
            square += last_.base[c] * last_.base[c];
        }
        const double n = static_cast<double>(std::max<size_t>(candidates.size(), 1));
        mean /= n;
        const double sd = std::sqrt(std::max(square / n - mean * mean, 0.0));
        for (double& b : last_.base)
            b = (b - mean) / (sd > 0 ? sd : 1.0) / settings_.temperature;
        const auto logits = logitsOf(last_).contiguous();
        const float* l = logits.data_ptr<float>();
        // Gumbel top-k: k draws from the softmax without replacement.
        keys_.resize(candidates.size());
        for (size_t c = 0; c < candidates.size(); ++c)
            keys_[c] = static_cast<double>(l[c]) - std::log(-std::log(std::max(rng_.uniform(), 1e-300)));
        topByScore(candidates, keys_, k, slate);
        const auto p = torch::softmax(logits.to(torch::kDouble), 0).contiguous();
        lastProbability_.clear();
        for (size_t c = 0; c < candidates.size(); ++c)
            lastProbability_[candidates[c]] = p.data_ptr<double>()[c];
    }

    void update(int32_t, const std::vector<int32_t>& slate, const std::vector<Observation>& seen) override
    {
        if (seen.empty())
            return;
        Record r = last_;
        r.seen = seen;
        double total = 0;
        for (const int32_t c : r.candidates)
            total += countOf(c) + 1.0;
        for (const Observation& o : seen) {
            const auto at = std::find(r.candidates.begin(), r.candidates.end(), slate[static_cast<size_t>(o.position)]);
            r.observedIndex.push_back(at - r.candidates.begin());
            r.behaviour.push_back((countOf(o.item) + 1.0) / total);
            rewardSum_ += o.reward;
            ++rewardCount_;
        }
        records_.push_back(std::move(r));
        if (static_cast<int>(records_.size()) >= settings_.batch)
            learn();
    }

    void logged(int32_t, int32_t item) override { ++logCounts_[item]; }

    ItemEstimate estimate(int32_t, int32_t item) const override
    {
        const auto it = lastProbability_.find(item);
        return {rewardCount_ > 0 ? rewardSum_ / static_cast<double>(rewardCount_) : 0.0,
                it == lastProbability_.end() ? 0.0 : it->second, rewardCount_};
    }

private:
    double countOf(int32_t item) const
    {
        const auto it = logCounts_.find(item);
        return it == logCounts_.end() ? 0.0 : it->second;
    }

    torch::Tensor logitsOf(const Record& r)
    {
        torch::NoGradGuard noGrad;
        return forward({&r}).to(torch::kCPU, torch::kFloat);
    }

    // The policy's logits of the records' candidates, one after another.
    torch::Tensor forward(const std::vector<const Record*>& records)
    {
        std::vector<int64_t> users, items;
        std::vector<float> base;
        for (const Record* r : records) {
            users.insert(users.end(), r->candidates.size(), r->user);
            items.insert(items.end(), r->candidates.begin(), r->candidates.end());
            base.insert(base.end(), r->base.begin(), r->base.end());
        }
        const auto device = device_;
        const auto u = torch::tensor(users, torch::kLong).to(device), i = torch::tensor(items, torch::kLong).to(device);
        return net_->predict(u, i).reshape({-1}).to(torch::kFloat) + torch::tensor(base, torch::kFloat).to(device);
    }

    void learn()
    {
        net_->train();
        std::vector<const Record*> batch;
        for (const Record& r : records_)
            batch.push_back(&r);
        const auto logits = forward(batch).to(torch::kCPU);
        const double baseline = rewardSum_ / static_cast<double>(std::max<int64_t>(rewardCount_, 1));
        std::vector<torch::Tensor> terms;
        int64_t offset = 0;
        for (const Record& r : records_) {
            const auto n = static_cast<int64_t>(r.candidates.size());
            const auto logp = torch::log_softmax(logits.narrow(0, offset, n), 0);
            for (size_t o = 0; o < r.seen.size(); ++o) {
                const auto lp = logp[r.observedIndex[o]];
                const double pi = std::exp(lp.item<double>());
                const double correction = r.k * std::pow(1.0 - pi, r.k - 1); // Chen et al.'s λ_K
                const double weight = offPolicy_ ? std::min(pi / r.behaviour[o], settings_.weightCap) : 1.0;
                terms.push_back(-weight * correction * (r.seen[o].reward - baseline) * lp);
            }
            offset += n;
        }
        adam_.zero_grad();
        torch::stack(terms).mean().backward();
        adam_.step();
        records_.clear();
        net_->eval();
    }

    std::shared_ptr<Recommender> net_;
    BaseScore base_;
    ReinforceSettings settings_;
    Random rng_;
    bool offPolicy_;
    torch::optim::Adam adam_;
    torch::Device device_; // the net's, read once
    Record last_;
    std::vector<Record> records_;
    std::vector<double> keys_;
    std::unordered_map<int32_t, double> lastProbability_, logCounts_;
    double rewardSum_ = 0;
    int64_t rewardCount_ = 0;
};

class BaseRanking : public SlatePolicy {
public:
    explicit BaseRanking(BaseScore base) : base_(std::move(base)) {}
    void choose(int32_t user, const std::vector<int32_t>& candidates, int k, std::vector<int32_t>& slate) override
    {
        scores_.resize(candidates.size());
        for (size_t c = 0; c < candidates.size(); ++c)
            scores_[c] = base_(user, candidates[c]);
        topByScore(candidates, scores_, k, slate);
    }
    void update(int32_t, const std::vector<int32_t>&, const std::vector<Observation>& seen) override
    {
        for (const Observation& o : seen) {
            sum_ += o.reward;
            ++count_;
        }
    }
    ItemEstimate estimate(int32_t user, int32_t item) const override
    {
        return {count_ > 0 ? sum_ / static_cast<double>(count_) : 0.0, base_(user, item), count_};
    }

private:
    BaseScore base_;
    std::vector<double> scores_;
    double sum_ = 0;
    int64_t count_ = 0;
};

} // namespace

std::unique_ptr<SlatePolicy> makeLinUcb(torch::Tensor userVectors, torch::Tensor itemVectors, const LinUcbSettings& settings)
{
    return std::make_unique<LinUcbPolicy>(userVectors, itemVectors, settings);
}

std::unique_ptr<SlatePolicy> makeReinforce(std::shared_ptr<Recommender> net, BaseScore base, const ReinforceSettings& settings,
                                           uint64_t seed, bool offPolicy)
{
    return std::make_unique<ReinforcePolicy>(std::move(net), std::move(base), settings, seed, offPolicy);
}

std::unique_ptr<SlatePolicy> makeBaseRanking(BaseScore base) { return std::make_unique<BaseRanking>(std::move(base)); }

} // namespace reclab
