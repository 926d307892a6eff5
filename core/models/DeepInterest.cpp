#include "models/DeepInterest.h"

#include "data/Dataset.h"

#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/activation.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <stdexcept>

namespace reclab {

DiceImpl::DiceImpl(int64_t channels)
{
    alpha_ = register_parameter("alpha", torch::zeros({channels}));
    runningMean_ = register_buffer("running_mean", torch::zeros({channels}));
    runningVar_ = register_buffer("running_var", torch::ones({channels}));
}

namespace {

// The loops of Dice over a row-major [n, c] block, vectorised across the channels; on x86-64
// GCC also builds an AVX2/FMA copy picked at load time (the default build targets plain x86-64).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define RECLAB_SIMD_CLONES __attribute__((target_clones("arch=haswell", "default")))
#else
#define RECLAB_SIMD_CLONES
#endif

// mean and (biased) variance of each channel; m and v start at zero.
RECLAB_SIMD_CLONES void diceStatistics(const float* __restrict x, int64_t n, int64_t c, float* __restrict m,
                                       float* __restrict v)
{
    for (int64_t k = 0; k < n * c; k += c)
        for (int64_t j = 0; j < c; ++j)
            m[j] += x[k + j];
    for (int64_t j = 0; j < c; ++j)
        m[j] /= static_cast<float>(n);
    for (int64_t k = 0; k < n * c; k += c)
        for (int64_t j = 0; j < c; ++j) {
            const float d = x[k + j] - m[j];
            v[j] += d * d;
        }
    for (int64_t j = 0; j < c; ++j)
        v[j] /= static_cast<float>(n);
}

RECLAB_SIMD_CLONES void diceOutput(const float* __restrict x, const float* __restrict p, const float* __restrict a,
                                   int64_t n, int64_t c, float* __restrict out)
{
    for (int64_t k = 0; k < n * c; k += c)
        for (int64_t j = 0; j < c; ++j)
            out[k + j] = x[k + j] * (a[j] + (1.f - a[j]) * p[k + j]);
}

// dx without the batch-statistics term, and per channel: dalpha, sum(gn), sum(gn n).
RECLAB_SIMD_CLONES void diceGradient(const float* __restrict x, const float* __restrict p, const float* __restrict g,
                                     const float* __restrict a, const float* __restrict mu, const float* __restrict r,
                                     int64_t n, int64_t c, float* __restrict dx, float* __restrict da,
                                     float* __restrict sumGn, float* __restrict sumGnN)
{
    for (int64_t k = 0; k < n * c; k += c)
        for (int64_t j = 0; j < c; ++j) {
            const float pk = p[k + j], xk = x[k + j], gk = g[k + j];
            const float gn = gk * xk * (1.f - a[j]) * pk * (1.f - pk);
            dx[k + j] = gk * (a[j] + (1.f - a[j]) * pk) + r[j] * gn;
            da[j] += gk * xk * (1.f - pk);
            sumGn[j] += gn;
            sumGnN[j] += gn * (xk - mu[j]) * r[j];
        }
}

// The gradient through the batch mean and variance: dx -= r mean(gn) + n r mean(gn n).
RECLAB_SIMD_CLONES void diceStatisticsGradient(const float* __restrict x, const float* __restrict mu,
                                               const float* __restrict r, int64_t n, int64_t c,
                                               float* __restrict sumGn, float* __restrict sumGnN,
                                               float* __restrict dx)
{
    for (int64_t j = 0; j < c; ++j) {
        sumGn[j] *= r[j] / static_cast<float>(n);
        sumGnN[j] *= r[j] * r[j] / static_cast<float>(n);
    }
    for (int64_t k = 0; k < n * c; k += c)
        for (int64_t j = 0; j < c; ++j)
            dx[k + j] -= sumGn[j] + (x[k + j] - mu[j]) * sumGnN[j];
}

// Dice as one autograd node with fused loops on the CPU: LibTorch ops made a dozen [n, C]
// temporaries per call, and the activation unit calls it on every (behaviour, candidate) pair.
//   forward:  p = sigmoid((x - mu) r), f = x (a + (1 - a) p), r = 1 / sqrt(var + eps)
//   backward: with gn = g x (1 - a) p (1 - p) and n = (x - mu) r,
//             dx = g (a + (1 - a) p) + r (gn - mean(gn) - n mean(gn n))   (batch statistics)
//             dx = g (a + (1 - a) p) + r gn                                (running statistics)
//             da = sum over rows of g x (1 - p)
struct DiceFunction : public torch::autograd::Function<DiceFunction> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& xIn,
                                 const torch::Tensor& alpha, torch::Tensor runningMean, torch::Tensor runningVar,
                                 bool batchStats, double momentum, double eps)
    {
        const auto x = xIn.contiguous();
        const int64_t n = x.size(0), c = x.size(1);
        torch::Tensor mean, var;
        if (batchStats) {
            mean = torch::zeros({c}, x.options());
            var = torch::zeros({c}, x.options());
            diceStatistics(x.data_ptr<float>(), n, c, mean.data_ptr<float>(), var.data_ptr<float>());
            runningMean.mul_(1 - momentum).add_(mean, momentum);
            runningVar.mul_(1 - momentum).add_(var * (static_cast<double>(n) / static_cast<double>(n - 1)), momentum);
        } else {
            mean = runningMean.clone();
            var = runningVar.clone();
        }
        const auto invStd = (var + eps).rsqrt();
        const auto p = torch::sigmoid(torch::addcmul(-mean * invStd, x, invStd)); // LibTorch's vectorised sigmoid
        const auto a = alpha.contiguous();
        auto out = torch::empty_like(x);
        diceOutput(x.data_ptr<float>(), p.data_ptr<float>(), a.data_ptr<float>(), n, c, out.data_ptr<float>());
        ctx->save_for_backward({x, p, a, mean, invStd});
        ctx->saved_data["batch_stats"] = batchStats;
        return out;
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::tensor_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const auto &x = saved[0], &p = saved[1], &a = saved[2], &mean = saved[3], &invStd = saved[4];
        const auto g = grads[0].contiguous();
        const int64_t n = x.size(0), c = x.size(1);
        auto dx = torch::empty_like(x);
        auto da = torch::zeros({c}, x.options());
        auto sums = torch::zeros({2, c}, x.options());
        float* sumGn = sums.data_ptr<float>();
        diceGradient(x.data_ptr<float>(), p.data_ptr<float>(), g.data_ptr<float>(), a.data_ptr<float>(),
                     mean.data_ptr<float>(), invStd.data_ptr<float>(), n, c, dx.data_ptr<float>(),
                     da.data_ptr<float>(), sumGn, sumGn + c);
        if (ctx->saved_data["batch_stats"].toBool())
            diceStatisticsGradient(x.data_ptr<float>(), mean.data_ptr<float>(), invStd.data_ptr<float>(), n, c, sumGn,
                                   sumGn + c, dx.data_ptr<float>());
        return {dx, da, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

} // namespace

bool DiceImpl::batchStatistics(const torch::Tensor& x) const
{
    // Batch statistics need two rows or more; a single row uses the running ones.
    return is_training() && x.size(0) > 1;
}

torch::Tensor DiceImpl::forward(const torch::Tensor& x)
{
    if (x.device().is_cpu() && x.scalar_type() == torch::kFloat)
        return DiceFunction::apply(x, alpha_, runningMean_, runningVar_, batchStatistics(x), 0.1, 1e-8);
    return reference(x);
}

torch::Tensor DiceImpl::reference(const torch::Tensor& x)
{
    const bool batchStats = batchStatistics(x);
    const auto normalised = torch::batch_norm(x, {}, {}, runningMean_, runningVar_, batchStats, 0.1, 1e-8, false);
    const auto p = torch::sigmoid(normalised);
    return x * (alpha_ + p * (1 - alpha_));
}

namespace {

torch::nn::AnyModule activation(DeepInterestOptions::Activation kind, int64_t channels)
{
    if (kind == DeepInterestOptions::DiceActivation)
        return torch::nn::AnyModule(Dice(channels));
    return torch::nn::AnyModule(torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(channels)));
}

// Linear + activation for each size after the first, then a linear layer to one output.
torch::nn::Sequential towerFrom(int64_t in, const std::vector<int64_t>& sizes, DeepInterestOptions::Activation kind,
                                bool firstLayerOutside)
{
    torch::nn::Sequential tower;
    int64_t width = in;
    for (size_t k = 0; k < sizes.size(); ++k) {
        if (!(firstLayerOutside && k == 0))
            tower->push_back(torch::nn::Linear(width, sizes[k]));
        tower->push_back(activation(kind, sizes[k]));
        width = sizes[k];
    }
    tower->push_back(torch::nn::Linear(width, 1));
    return tower;
}

} // namespace

DeepInterestImpl::DeepInterestImpl(const DeepInterestOptions& options, const ItemSideData* itemData, int64_t numGenres,
                                   const std::vector<int64_t>* itemSampleCounts)
    : options_(options)
{
    TORCH_CHECK(options.l2 == 0 || (itemSampleCounts && static_cast<int64_t>(itemSampleCounts->size()) == options.numItems),
                "mini-batch aware regularisation needs each item's sample count");
    TORCH_CHECK(!options.mlpLayers.empty() && !options.attentionLayers.empty(), "DIN needs layer sizes");
    const int64_t d = options.embedding;
    const bool genres = itemData && itemData->hasGenres() && numGenres > 0;
    itemEmbedding_ = register_module("item_embedding", torch::nn::Embedding(options.numItems, d));
    width_ = d;
    torch::NoGradGuard noGrad;
    itemEmbedding_->weight.normal_(0.0, 0.05);
    if (genres) {
        genreEmbedding_ = register_module("genre_embedding", torch::nn::Embedding(numGenres, d));
        genreEmbedding_->weight.normal_(0.0, 0.05);
        auto mix = torch::zeros({options.numItems, numGenres});
        auto m = mix.accessor<float, 2>();
        for (int64_t i = 0; i < options.numItems; ++i) {
            const uint32_t from = itemData->genreStart[static_cast<size_t>(i)];
            const uint32_t to = itemData->genreStart[static_cast<size_t>(i) + 1];
            for (uint32_t g = from; g < to; ++g)
                m[i][itemData->genreList[g]] = 1.f / static_cast<float>(to - from);
        }
        genreMix_ = register_buffer("genre_mix", mix);
        width_ += d;
    }
    if (options.l2 > 0) {
        auto inverse = torch::zeros({options.numItems + 1});
        auto v = inverse.accessor<float, 1>();
        for (int64_t i = 0; i < options.numItems; ++i)
            if (const int64_t count = (*itemSampleCounts)[static_cast<size_t>(i)]; count > 0)
                v[i] = 1.f / static_cast<float>(count);
        inverseCounts_ = register_buffer("inverse_counts", inverse);
    }
    if (options.pooling == DeepInterestOptions::Attention) {
        attentionIn_ = register_module("attention_in", torch::nn::Linear(4 * width_, options.attentionLayers.front()));
        attentionTail_ = register_module("attention",
                                         towerFrom(0, options.attentionLayers, options.activation, true));
    }
    tower_ = register_module("tower", towerFrom(2 * width_, options.mlpLayers, options.activation, false));
}

torch::Tensor DeepInterestImpl::itemRepresentations()
{
    auto rep = itemEmbedding_->weight;
    if (genreEmbedding_)
        rep = torch::cat({rep, genreMix_.matmul(genreEmbedding_->weight)}, 1);
    return torch::cat({rep, torch::zeros({1, width_}, rep.options())}, 0);
}

torch::Tensor DeepInterestImpl::forward(const Batch& batch, torch::Tensor* weights)
{
    const auto rep = itemRepresentations();
    const auto candidate = rep.index_select(0, batch.items); // [B, D]
    const int64_t rows = batch.history.size(0);
    const int64_t L = batch.history.size(1);
    // Only real behaviours are computed: their flat positions, rows and items.
    const auto valid = torch::arange(L, batch.history.options()).unsqueeze(0) < batch.historyLength.unsqueeze(1);
    const auto flat = valid.reshape({-1}).nonzero().squeeze(1);
    const auto rowOf = flat.div(L, "floor");
    const auto behaviourItems = batch.history.reshape({-1}).index_select(0, flat);
    const auto h = rep.index_select(0, behaviourItems); // [N, D]

    torch::Tensor w;
    if (options_.pooling == DeepInterestOptions::Attention) {
        // W [h, t, h - t, h * t] + b = (W1 + W3) h + (W2 - W3) t + W4 (h * t) + b: the h part
        // once per item of the table, the t part once per row, only W4 per behaviour.
        const auto chunks = attentionIn_->weight.chunk(4, 1);
        const auto perItem = rep.matmul((chunks[0] + chunks[2]).t());
        const auto perRow = torch::addmm(attentionIn_->bias, candidate, (chunks[1] - chunks[2]).t());
        const auto t = candidate.index_select(0, rowOf);
        const auto first = perItem.index_select(0, behaviourItems) + perRow.index_select(0, rowOf) +
                           (h * t).matmul(chunks[3].t());
        w = attentionTail_->forward(first).squeeze(1);
    } else {
        w = torch::ones({h.size(0)}, h.options());
    }
    const auto pooled = torch::zeros({rows, width_}, h.options()).index_add(0, rowOf, h * w.unsqueeze(1));
    if (weights)
        *weights = torch::zeros({rows * L}, h.options()).index_put({flat}, w.detach()).view({rows, L});
    return tower_->forward(torch::cat({pooled, candidate}, 1)).squeeze(1);
}

torch::Tensor DeepInterestImpl::calculateLoss(const Batch& batch)
{
    auto loss = torch::nn::functional::binary_cross_entropy_with_logits(forward(batch), batch.labels);
    if (options_.l2 > 0) {
        // Only the embeddings of items in this batch (candidates or behaviours), each scaled
        // by 1 / n_j; padding entries hit the zero weight of the padding row.
        auto inBatch = torch::zeros({options_.numItems + 1}, inverseCounts_.options());
        inBatch.index_fill_(0, batch.items, 1.f).index_fill_(0, batch.history.reshape({-1}), 1.f);
        const auto weight = (inBatch * inverseCounts_).narrow(0, 0, options_.numItems);
        loss = loss + 0.5 * options_.l2 * (weight * itemEmbedding_->weight.pow(2).sum(1)).sum();
    }
    return loss;
}

torch::Tensor DeepInterestImpl::predictBatch(const Batch& batch)
{
    return forward(batch);
}

torch::Tensor DeepInterestImpl::predict(const torch::Tensor&, const torch::Tensor&)
{
    throw std::logic_error("base and din score a behaviour history with a candidate; use predictBatch");
}

torch::Tensor DeepInterestImpl::fullSortPredict(const torch::Tensor&)
{
    throw std::logic_error("base and din score a behaviour history with a candidate; use predictBatch");
}

} // namespace reclab
