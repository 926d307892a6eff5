#include "models/BayesianMF.h"

#include "data/RowGroups.h"
#include "util/Error.h"
#include "util/Random.h"

#include <ATen/Parallel.h>
#include <torch/linalg.h>
#include <torch/types.h>

#include <algorithm>
#include <cmath>

namespace reclab {

namespace {

constexpr double kBeta0 = 2.0;      // the Gaussian–Wishart's β0 (the BPMF paper's)
constexpr double kGammaShape = 1.0; // Gamma(1, 1) on α and the bias precisions
constexpr double kGammaRate = 1.0;
constexpr int64_t kMaxBank = 64;

const auto kDouble = torch::TensorOptions().dtype(torch::kFloat64);

// Standard normals [rows, cols] in double, drawn in row-major order.
torch::Tensor normals(Random& rng, int64_t rows, int64_t cols)
{
    auto z = torch::empty({rows, cols}, kDouble);
    double* p = z.data_ptr<double>();
    for (int64_t k = 0; k < rows * cols; ++k)
        p[k] = rng.normal();
    return z;
}

// A draw of Wishart(W, nu) by Bartlett's decomposition: L A Aᵀ Lᵀ, L = chol(W), A lower
// triangular with A_kk² ~ χ²(nu − k) and standard normals below the diagonal.
torch::Tensor wishart(const torch::Tensor& W, double nu, Random& rng)
{
    const int64_t d = W.size(0);
    auto A = torch::zeros({d, d}, kDouble);
    double* a = A.data_ptr<double>();
    for (int64_t k = 0; k < d; ++k) {
        a[k * d + k] = std::sqrt(2.0 * rng.gamma((nu - static_cast<double>(k)) / 2.0));
        for (int64_t j = 0; j < k; ++j)
            a[k * d + j] = rng.normal();
    }
    const auto LA = torch::linalg::cholesky(W).matmul(A);
    return LA.matmul(LA.t());
}

} // namespace

BayesianMFImpl::Side::Side(const InteractionTable& train, bool users, int64_t n)
{
    RowGroups groups(users ? train.user : train.item, static_cast<size_t>(n));
    start.assign(groups.start.begin(), groups.start.end());
    const auto& others = users ? train.item : train.user;
    other.reserve(groups.rows.size());
    rating.reserve(groups.rows.size());
    for (const uint32_t r : groups.rows) {
        other.push_back(others[r]);
        rating.push_back(train.rating[r]);
    }
}

BayesianMFImpl::BayesianMFImpl(const InteractionTable& train, const BayesianMFOptions& options) : options_(options)
{
    const int64_t U = options.numUsers, I = options.numItems, d = options.factors;
    if (U <= 0 || I <= 0 || d <= 0)
        throw ConfigError("factors", "Bayesian MF needs users, items and at least one factor");
    byUser_ = Side(train, true, U);
    byItem_ = Side(train, false, I);
    const int64_t perSample = (U + I) * (d + 2) * static_cast<int64_t>(sizeof(float));
    bankSize_ = std::clamp<int64_t>(options.bankBytes / perSample, 2, kMaxBank) & ~int64_t(1); // even: halves evenly

    // Factors start small and random (from the seed), biases at zero, α at the BPMF paper's 2.
    Random rng(options.seed);
    userFactors_ = register_buffer("user_factors", normals(rng, U, d).mul_(0.1));
    itemFactors_ = register_buffer("item_factors", normals(rng, I, d).mul_(0.1));
    userBias_ = register_buffer("user_bias", torch::zeros({U}, kDouble));
    itemBias_ = register_buffer("item_bias", torch::zeros({I}, kDouble));
    precisions_ = register_buffer("precisions", torch::tensor({2.0, 1.0, 1.0}, kDouble));
    counters_ = register_buffer("counters", torch::tensor({int64_t(0), int64_t(0), int64_t(1)}, torch::kLong));
    bank_ = register_buffer("bank", torch::zeros({U + I, bankSize_, d + 2}));
}

int64_t BayesianMFImpl::sweeps() const { return counters_[0].item<int64_t>(); }
int64_t BayesianMFImpl::samplesAveraged() const { return counters_[1].item<int64_t>(); }
double BayesianMFImpl::noisePrecision() const { return precisions_[0].item<double>(); }

void BayesianMFImpl::sampleSide(const Side& side, torch::Tensor& factors, torch::Tensor& bias, double& biasPrecision,
                                const torch::Tensor& otherFactors, const torch::Tensor& otherBias, double alpha,
                                Random& rng)
{
    const int64_t n = factors.size(0), d = factors.size(1);
    const double N = static_cast<double>(n);

    // The side's mean and precision from their Gaussian–Wishart posterior given its factors.
    const auto mean = factors.mean(0);
    const auto centred = factors - mean;
    auto Winv = torch::eye(d, kDouble) + centred.t().matmul(centred) +
                (kBeta0 * N / (kBeta0 + N)) * torch::outer(mean, mean);
    auto W = torch::linalg::inv(Winv);
    W = (W + W.t()) / 2;
    const auto Lambda = wishart(W, static_cast<double>(d) + N, rng);
    const auto muStar = mean * (N / (kBeta0 + N));
    const auto muCovFactor = torch::linalg::cholesky(torch::linalg::inv(Lambda * (kBeta0 + N)));
    const auto mu = muStar + muCovFactor.matmul(normals(rng, d, 1).squeeze(1));
    const auto priorTerm = Lambda.matmul(mu).contiguous();

    // Each entity's conditional: precision Λ + α Σ q qᵀ, mean its inverse times
    // Λμ + α Σ (r − μ − b_own − b_other) q, over the entity's ratings.
    auto precision = torch::empty({n, d, d}, kDouble);
    auto rhs = torch::empty({n, d}, kDouble);
    {
        const double* lam = Lambda.contiguous().data_ptr<double>();
        const double* prior = priorTerm.data_ptr<double>();
        const double* q = otherFactors.data_ptr<double>();
        const double* ob = otherBias.data_ptr<double>();
        const double* own = bias.data_ptr<double>();
        double* A = precision.data_ptr<double>();
        double* b = rhs.data_ptr<double>();
        const double globalMean = options_.globalMean;
        at::parallel_for(0, n, 64, [&](int64_t from, int64_t to) {
            for (int64_t e = from; e < to; ++e) {
                double* Ae = A + e * d * d;
                double* be = b + e * d;
                std::copy(lam, lam + d * d, Ae);
                std::copy(prior, prior + d, be);
                for (int64_t r = side.start[static_cast<size_t>(e)]; r < side.start[static_cast<size_t>(e) + 1]; ++r) {
                    const int32_t o = side.other[static_cast<size_t>(r)];
                    const double* qo = q + static_cast<int64_t>(o) * d;
                    const double residual = side.rating[static_cast<size_t>(r)] - globalMean - own[e] - ob[o];
                    for (int64_t j = 0; j < d; ++j) {
                        const double aq = alpha * qo[j];
                        be[j] += aq * residual;
                        for (int64_t k = 0; k <= j; ++k)
                            Ae[j * d + k] += aq * qo[k];
                    }
                }
                for (int64_t j = 0; j < d; ++j) // the upper triangle mirrors the lower
                    for (int64_t k = j + 1; k < d; ++k)
                        Ae[j * d + k] = Ae[k * d + j];
            }
        });
    }
    // x = mean + L⁻ᵀ z has covariance (L Lᵀ)⁻¹, the precision's inverse.
    const auto L = torch::linalg::cholesky(precision);
    const auto conditionalMean = torch::cholesky_solve(rhs.unsqueeze(2), L);
    const auto noise = torch::linalg::solve_triangular(L.transpose(1, 2), normals(rng, n, d).unsqueeze(2),
                                                       /*upper=*/true, /*left=*/true, /*unitriangular=*/false);
    factors.copy_((conditionalMean + noise).squeeze(2));

    // Then each bias given the new factors: precision λ + α n_e, mean α Σ residual / precision.
    {
        const double* x = factors.data_ptr<double>();
        const double* q = otherFactors.data_ptr<double>();
        const double* ob = otherBias.data_ptr<double>();
        double* own = bias.data_ptr<double>();
        double squares = 0.0;
        for (int64_t e = 0; e < n; ++e) {
            const double* xe = x + e * d;
            double sum = 0.0;
            const int64_t from = side.start[static_cast<size_t>(e)], to = side.start[static_cast<size_t>(e) + 1];
            for (int64_t r = from; r < to; ++r) {
                const int32_t o = side.other[static_cast<size_t>(r)];
                const double* qo = q + static_cast<int64_t>(o) * d;
                double dot = 0.0;
                for (int64_t j = 0; j < d; ++j)
                    dot += xe[j] * qo[j];
                sum += side.rating[static_cast<size_t>(r)] - options_.globalMean - ob[o] - dot;
            }
            const double prec = biasPrecision + alpha * static_cast<double>(to - from);
            own[e] = alpha * sum / prec + rng.normal() / std::sqrt(prec);
            squares += own[e] * own[e];
        }
        biasPrecision = rng.gamma(kGammaShape + N / 2.0) / (kGammaRate + squares / 2.0);
    }
}

double BayesianMFImpl::sampleEpoch()
{
    torch::NoGradGuard noGrad;
    const int64_t sweep = counters_[0].item<int64_t>() + 1;
    // Each sweep's own generator: a resumed chain draws what the uninterrupted one would have.
    Random rng(options_.seed ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(sweep)));
    double* p = precisions_.data_ptr<double>();
    const double alpha = p[0];
    sampleSide(byUser_, userFactors_, userBias_, p[1], itemFactors_, itemBias_, alpha, rng);
    sampleSide(byItem_, itemFactors_, itemBias_, p[2], userFactors_, userBias_, alpha, rng);

    // The noise precision given every rating's residual.
    const int64_t d = options_.factors;
    const double* P = userFactors_.data_ptr<double>();
    const double* Q = itemFactors_.data_ptr<double>();
    const double* bu = userBias_.data_ptr<double>();
    const double* bi = itemBias_.data_ptr<double>();
    double squares = 0.0;
    for (int64_t u = 0; u < options_.numUsers; ++u)
        for (int64_t r = byUser_.start[static_cast<size_t>(u)]; r < byUser_.start[static_cast<size_t>(u) + 1]; ++r) {
            const int32_t i = byUser_.other[static_cast<size_t>(r)];
            double e = byUser_.rating[static_cast<size_t>(r)] - options_.globalMean - bu[u] - bi[i];
            for (int64_t j = 0; j < d; ++j)
                e -= P[u * d + j] * Q[static_cast<int64_t>(i) * d + j];
            squares += e * e;
        }
    const auto ratings = static_cast<double>(byUser_.other.size());
    p[0] = rng.gamma(kGammaShape + ratings / 2.0) / (kGammaRate + squares / 2.0);
    counters_.data_ptr<int64_t>()[0] = sweep;
    keepSample();
    return ratings > 0 ? squares / ratings : 0.0;
}

torch::Tensor BayesianMFImpl::currentVectors(bool users) const
{
    const auto& factors = users ? userFactors_ : itemFactors_;
    const auto bias = (users ? userBias_ : itemBias_).unsqueeze(1);
    const auto one = torch::ones_like(bias);
    return (users ? torch::cat({factors, bias, one}, 1) : torch::cat({factors, one, bias}, 1)).to(torch::kFloat);
}

void BayesianMFImpl::keepSample()
{
    int64_t* c = counters_.data_ptr<int64_t>();
    const int64_t after = c[0] - options_.burnIn - 1; // the sample's place after the burn-in
    if (after < 0 || after % c[2] != 0)
        return;
    if (c[1] == bankSize_) { // full: keep every second sample, twice as far apart
        bank_.narrow(1, 0, bankSize_ / 2).copy_(bank_.slice(1, 0, bankSize_, 2).clone());
        c[1] = bankSize_ / 2;
        c[2] *= 2;
        if (after % c[2] != 0)
            return;
    }
    const int64_t U = options_.numUsers;
    bank_.select(1, c[1]).narrow(0, 0, U).copy_(currentVectors(true));
    bank_.select(1, c[1]).narrow(0, U, options_.numItems).copy_(currentVectors(false));
    ++c[1];
}

torch::Tensor BayesianMFImpl::predictive(const torch::Tensor& index, bool users) const
{
    const int64_t kept = counters_[1].item<int64_t>();
    const auto cpuIndex = index.to(torch::kCPU);
    if (kept == 0)
        return currentVectors(users).index_select(0, cpuIndex);
    const int64_t offset = users ? 0 : options_.numUsers, width = options_.factors + 2;
    auto v = bank_.narrow(1, 0, kept).index_select(0, cpuIndex + offset).reshape({-1, kept * width});
    return users ? v / static_cast<double>(kept) : v;
}

torch::Tensor BayesianMFImpl::calculateLoss(const Batch& batch)
{
    torch::NoGradGuard noGrad;
    return (predict(batch.users, batch.items) - batch.labels).pow(2).mean();
}

torch::Tensor BayesianMFImpl::predict(const torch::Tensor& users, const torch::Tensor& items)
{
    torch::NoGradGuard noGrad;
    const int64_t kept = counters_[1].item<int64_t>();
    if (kept == 0)
        return ((predictive(users, true) * predictive(items, false)).sum(1) + options_.globalMean).to(users.device());
    // The banked samples' mean, pair by pair: no [pairs, K (d + 2)] copies.
    const auto u = users.to(torch::kCPU, torch::kLong).contiguous(), i = items.to(torch::kCPU, torch::kLong).contiguous();
    const int64_t n = u.size(0), stride = bankSize_ * (options_.factors + 2), length = kept * (options_.factors + 2);
    auto out = torch::empty({n});
    const int64_t* up = u.data_ptr<int64_t>();
    const int64_t* ip = i.data_ptr<int64_t>();
    const float* bank = bank_.data_ptr<float>();
    float* o = out.data_ptr<float>();
    const double scale = 1.0 / static_cast<double>(kept);
    at::parallel_for(0, n, 2048, [&](int64_t from, int64_t to) {
        for (int64_t r = from; r < to; ++r) {
            const float* a = bank + up[r] * stride;
            const float* b = bank + (options_.numUsers + ip[r]) * stride;
            float sum = 0.f;
            for (int64_t k = 0; k < length; ++k)
                sum += a[k] * b[k];
            o[r] = static_cast<float>(options_.globalMean + scale * sum);
        }
    });
    return out.to(users.device());
}

torch::Tensor BayesianMFImpl::fullSortPredict(const torch::Tensor& users)
{
    torch::NoGradGuard noGrad;
    const auto all = torch::arange(options_.numItems, torch::kLong);
    return (predictive(users, true).matmul(predictive(all, false).t()) + options_.globalMean).to(users.device());
}

} // namespace reclab
