// Bayesian probabilistic matrix factorisation (Salakhutdinov and Mnih, ICML 2008) with user and
// item biases, fitted by Gibbs sampling instead of gradients:
//   r_ui ~ N(μ + b_u + b_i + p_uᵀ q_i, 1/α),   p_u ~ N(μ_U, Λ_U⁻¹),   q_i ~ N(μ_V, Λ_V⁻¹),
//   (μ_U, Λ_U) and (μ_V, Λ_V) ~ Gaussian–Wishart(μ0 = 0, β0 = 2, W0 = I, ν0 = d),
//   b_u ~ N(0, 1/λ_U), b_i ~ N(0, 1/λ_V),   α, λ_U, λ_V ~ Gamma(1, 1),
// μ the training mean. One epoch is one sweep: the users' hyperparameters, then each user's
// factors (their Gaussian conditional, a d × d Cholesky per user) and bias given the items',
// then the same for the items, then the precisions. A prediction is the mean over the samples
// drawn after the burn-in (the posterior predictive mean; the current sample until then). Those
// samples are kept spread evenly over the chain in a bank of at most K: when it is full every
// second one is dropped and the spacing doubles. Sweep s draws from a generator seeded by
// (seed, s), and the whole state is buffers, so a checkpointed run resumes with the same draws.
#pragma once

#include "data/Dataset.h"
#include "models/Recommender.h"

#include <cstdint>
#include <vector>

namespace reclab {

class Random;

struct BayesianMFOptions {
    int64_t numUsers = 0;
    int64_t numItems = 0;
    int64_t factors = 10;
    double globalMean = 0.0;
    int burnIn = 20; // sweeps before the averaging starts
    uint64_t seed = 42;
    int64_t bankBytes = int64_t(256) << 20; // the kept samples' memory, at most (and 64 samples)
};

class BayesianMFImpl : public Recommender {
public:
    // train: the training part, ratings as labels.
    BayesianMFImpl(const InteractionTable& train, const BayesianMFOptions& options);

    ModelFamily family() const override { return ModelFamily::General; }
    InputType inputType() const override { return InputType::Pointwise; }
    int64_t numItems() const override { return options_.numItems; }
    bool sampled() const override { return true; }
    double sampleEpoch() override;

    // The squared error of the current prediction (no gradients: nothing is trained by it).
    torch::Tensor calculateLoss(const Batch& batch) override;
    torch::Tensor predict(const torch::Tensor& users, const torch::Tensor& items) override;
    torch::Tensor fullSortPredict(const torch::Tensor& users) override;

    int64_t sweeps() const;
    int64_t samplesAveraged() const; // in the bank now
    double noisePrecision() const;   // α of the latest sweep

private:
    // One side's ratings grouped by its entities (users, or items): entity e rated
    // other[start[e] .. start[e + 1]), in table order.
    struct Side {
        Side() = default;
        Side(const InteractionTable& train, bool users, int64_t n);
        std::vector<int64_t> start;
        std::vector<int32_t> other;
        std::vector<float> rating;
    };
    // Draws the side's hyperparameters, then each entity's factors and bias given the other
    // side's, then the side's bias precision.
    void sampleSide(const Side& side, torch::Tensor& factors, torch::Tensor& bias, double& biasPrecision,
                    const torch::Tensor& otherFactors, const torch::Tensor& otherBias, double alpha, Random& rng);
    void keepSample();
    // Each entity's vector for the predictive mean: [p_u, b_u, 1] (users) or [q_i, 1, b_i]
    // (items) of every banked sample side by side, divided by their count for the users.
    torch::Tensor predictive(const torch::Tensor& index, bool users) const;
    torch::Tensor currentVectors(bool users) const;

    BayesianMFOptions options_;
    Side byUser_, byItem_;
    int64_t bankSize_ = 0;
    // The chain's state (buffers): factors and biases in double, [α, λ_U, λ_V], [sweeps, kept,
    // spacing] and the bank [users + items, K, d + 2] in float (an entity's samples side by side).
    torch::Tensor userFactors_, itemFactors_, userBias_, itemBias_, precisions_, counters_, bank_;
};
TORCH_MODULE(BayesianMF);

} // namespace reclab
