// Click-through models over a user's behaviour history (Zhou et al., KDD 2018):
//   - BaseModel (Embedding&MLP): behaviour embeddings sum-pooled into one vector;
//   - DIN: a local activation unit, an MLP on [h, t, h - t, h * t] for behaviour h and candidate
//     t, gives every behaviour a weight, and the pooled vector is the weighted sum (no softmax,
//     so the weights keep the intensity of the user's interest).
// An item is represented by its own embedding and the mean embedding of its genres. The
// network over [pooled, candidate] and the activation unit use PReLU or Dice.
#pragma once

#include "models/Dice.h"
#include "models/Recommender.h"

#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <vector>

namespace reclab {

struct ItemSideData;


struct DeepInterestOptions {
    enum Pooling { Sum, Attention };
    enum Activation { PReLU, DiceActivation };
    Pooling pooling = Attention;
    Activation activation = DiceActivation;
    int64_t numItems = 0;
    int64_t embedding = 16; // per field: item, genre
    std::vector<int64_t> attentionLayers = {80, 40};
    std::vector<int64_t> mlpLayers = {200, 80};
    // Mini-batch aware regularisation (Zhou et al. 2018, 4.3): l2 / 2 * sum over the items in
    // the batch of ||w_j||^2 / n_j, n_j the item's training samples. 0 turns it off.
    double l2 = 0.0;
};

class DeepInterestImpl : public Recommender {
public:
    // itemData may be null or have no genres: items are then their own embedding only.
    // itemSampleCounts (n_j per item) is needed when options.l2 > 0.
    DeepInterestImpl(const DeepInterestOptions& options, const ItemSideData* itemData, int64_t numGenres,
                     const std::vector<int64_t>* itemSampleCounts = nullptr);

    ModelFamily family() const override
    {
        return options_.pooling == DeepInterestOptions::Attention ? ModelFamily::Sequential : ModelFamily::Context;
    }
    InputType inputType() const override { return InputType::Pointwise; }
    int64_t numItems() const override { return options_.numItems; }

    torch::Tensor calculateLoss(const Batch& batch) override;
    // Click logits of the batch's (history, candidate) rows.
    torch::Tensor predictBatch(const Batch& batch) override;
    // Without a history there is nothing to score: these throw std::logic_error.
    torch::Tensor predict(const torch::Tensor& users, const torch::Tensor& items) override;
    torch::Tensor fullSortPredict(const torch::Tensor& users) override;

    // Logits, and when weights is given the behaviour weights [n, L] (1 for sum pooling, 0 on
    // padding).
    torch::Tensor forward(const Batch& batch, torch::Tensor* weights = nullptr);
    // Every item's representation [numItems + 1, D], the last row (padding) zero.
    torch::Tensor itemRepresentations();
    // The activation unit's first layer, over [h, t, h - t, h * t] (for checks and the viewer).
    torch::nn::Linear& attentionInput() { return attentionIn_; }
    torch::Tensor attentionTail(const torch::Tensor& firstLayer) { return attentionTail_->forward(firstLayer); }

private:
    DeepInterestOptions options_;
    int64_t width_ = 0; // D
    torch::nn::Embedding itemEmbedding_{nullptr}, genreEmbedding_{nullptr};
    torch::Tensor genreMix_; // [numItems, genres], rows sum to 1 (or 0 without genres)
    torch::Tensor inverseCounts_; // [numItems + 1]: 1 / n_j, 0 for unseen items and padding
    torch::nn::Linear attentionIn_{nullptr};
    torch::nn::Sequential attentionTail_{nullptr}, tower_{nullptr};
};
TORCH_MODULE(DeepInterest);

} // namespace reclab
