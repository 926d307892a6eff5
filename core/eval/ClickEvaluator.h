// Click-through accuracy on held-out behaviour samples (the DIN protocol): AUC, GAUC (each
// user's AUC weighted by the user's samples) and LogLoss of the predicted probabilities.
#pragma once

#include "data/BehaviourSplit.h"
#include "runs/Metrics.h"

#include <torch/types.h>

#include <vector>

namespace reclab {

class Recommender;

// Samples as tensors (users, items, labels, history [n, maxHistory], historyLength), rows in
// order when given (a permutation of the sample indices), else as stored.
struct BehaviourTensors {
    torch::Tensor users, items, labels, history, historyLength;
};
BehaviourTensors behaviourTensors(const BehaviourSamples& samples, const std::vector<uint32_t>* order = nullptr);

class ClickEvaluator {
public:
    explicit ClickEvaluator(const BehaviourSamples& test, int64_t batchSize = 512);
    // perUser, when given, receives each test user's auc and logloss.
    MetricValues evaluate(Recommender& model, const torch::Device& device, UserMetrics* perUser = nullptr) const;
    // The click probabilities of every test sample, in sample order.
    std::vector<float> probabilities(Recommender& model, const torch::Device& device) const;

private:
    BehaviourTensors test_;
    std::vector<int32_t> users_;
    std::vector<float> labels_;
    int64_t batchSize_;
};

} // namespace reclab
