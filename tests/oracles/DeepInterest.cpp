#include "oracles/DeepInterest.h"

#include "data/Dataset.h"

#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/activation.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <stdexcept>

namespace reclab {

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
