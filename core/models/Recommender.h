// The one contract every trainable model implements (RecBole's shape in explicit C++):
// a loss for a batch, scores for (user, item) pairs, and scores of all items for users.
#pragma once

#include "runs/ModelTraits.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace reclab {

// One mini-batch: users and items are int64 index tensors, labels float (1/0 for implicit
// feedback, the rating for explicit feedback). Pairwise models also get negItems: for each
// row, an item the user did not consume, to rank below items. Click-through models get each
// row's behaviour history: item indices [n, L], oldest first, padded with numItems(), and the
// number of real behaviours per row [n].
struct Batch {
    torch::Tensor users;
    torch::Tensor items;
    torch::Tensor labels;
    torch::Tensor negItems;
    torch::Tensor history;
    torch::Tensor historyLength;
    // Next-item training (ModelAbilities::nextItems): the item after each position of history
    // [n, L], -1 past the row's length; [n, 1] for a model with one state per history (the item
    // after the whole history).
    torch::Tensor targets;
    // Beside each target, k sampled unconsumed items [n, L or 1, k] (next-item losses bce, bpr).
    torch::Tensor negativeTargets;
};

class Recommender : public torch::nn::Module {
public:
    virtual ModelFamily family() const = 0;
    virtual InputType inputType() const = 0;
    virtual int64_t numItems() const = 0;
    // False for models computed from counts (popularity): the trainer fits them once.
    virtual bool trainable() const { return true; }
    // Models fitted by sampling instead of gradients (Bayesian MF): true, and each epoch is one
    // sweep of sampleEpoch() over the training part, which returns the sweep's mean squared
    // training error. Such a model has no parameters for an optimizer.
    virtual bool sampled() const { return false; }
    virtual double sampleEpoch() { return 0.0; }
    // Whether the model's training steps spread their heavy part over RecLab's own threads
    // (evaluationThreads()): the epoch loop then runs LibTorch's ops on one thread, as LibTorch's
    // intra-op threads spin for a while after each parallel op and would take the cores.
    virtual bool spreadsTraining() const { return false; }

    virtual torch::Tensor calculateLoss(const Batch& batch) = 0;
    // One training step's work before the optimizer: weight · calculateLoss(batch), its
    // gradients added into the parameters' .grad, and that weighted loss returned (detached).
    // The default runs autograd; a model may compute the same gradients another way.
    virtual torch::Tensor trainingStep(const Batch& batch, double weight = 1.0);
    // Scores of aligned (user, item) pairs, shape [n]; higher is better.
    virtual torch::Tensor predict(const torch::Tensor& users, const torch::Tensor& items) = 0;
    // Scores of every item for each user, shape [users, numItems()].
    virtual torch::Tensor fullSortPredict(const torch::Tensor& users);
    // Scores of a batch's rows (labels unused). Models that need more than (user, item), such
    // as a behaviour history, override it; the default is predict(users, items).
    virtual torch::Tensor predictBatch(const Batch& batch) { return predict(batch.users, batch.items); }
    // Scores [n] of one user's candidates [n] (on the model's device) when the user's behaviours
    // are history (real ones, oldest first, at most historyLength): models that read no history
    // score (user, candidate); the others score blocks of candidates through predictBatch with
    // the history padded, and a graph that can compute the per-behaviour values once for all
    // candidates does so (in evaluation mode).
    virtual torch::Tensor scoreWithHistory(int64_t user, const std::vector<int32_t>& history,
                                           const torch::Tensor& candidates, int historyLength);
};

// Candidates for a model that reads behaviours, each with the same history (oldest first,
// padded with numItems to historyLength), on device.
Batch behaviourBatch(int32_t user, const std::vector<int32_t>& history, const torch::Tensor& candidates,
                     int64_t numItems, int historyLength, const torch::Device& device);

} // namespace reclab
