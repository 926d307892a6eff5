// The NCF family (He et al., WWW 2017): GMF (element-wise product of user and item embeddings
// weighted by an output layer h), MLP (a ReLU tower over concatenated embeddings, then h), and
// NeuMF (both branches fused by one output layer). All three give a click logit trained with
// binary cross-entropy on sampled negatives.
#pragma once

#include "models/Recommender.h"

#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <vector>

namespace reclab {

enum class NcfBranches { Both, GmfOnly, MlpOnly };

struct NeuMFOptions {
    NcfBranches branches = NcfBranches::Both;
    int64_t numUsers = 0;
    int64_t numItems = 0;
    int64_t gmfFactors = 8;
    std::vector<int64_t> mlpLayers = {64, 32, 16, 8}; // first = 2 x MLP embedding size
    double l2 = 0.0; // on the batch's user and item embedding rows (mean of squared norms)
};

class NeuMFImpl : public Recommender {
public:
    explicit NeuMFImpl(const NeuMFOptions& options);

    ModelFamily family() const override { return ModelFamily::General; }
    InputType inputType() const override { return InputType::Pointwise; }
    int64_t numItems() const override { return options_.numItems; }

    torch::Tensor forward(const torch::Tensor& users, const torch::Tensor& items);
    torch::Tensor calculateLoss(const Batch& batch) override;
    torch::Tensor predict(const torch::Tensor& users, const torch::Tensor& items) override;
    // All items at once: the GMF branch as one matrix product, and the MLP's first layer split
    // into a user part and an item part, so only the layers after it run per (user, item) pair.
    torch::Tensor fullSortPredict(const torch::Tensor& users) override;

    // NeuMF pre-training (He et al. 2017, 3.4.1): embeddings and tower from a trained GMF and
    // MLP; output layer [alpha h_gmf, (1 - alpha) h_mlp], bias mixed alike.
    void loadPretrained(const NeuMFImpl& gmf, const NeuMFImpl& mlp, double alpha);

    bool hasGmf() const { return options_.branches != NcfBranches::MlpOnly; }
    bool hasMlp() const { return options_.branches != NcfBranches::GmfOnly; }

private:
    NeuMFOptions options_;
    torch::nn::Embedding userGmf_{nullptr}, itemGmf_{nullptr}, userMlp_{nullptr}, itemMlp_{nullptr};
    torch::nn::Sequential tower_{nullptr};
    torch::nn::Linear output_{nullptr};
};
TORCH_MODULE(NeuMF);

} // namespace reclab
