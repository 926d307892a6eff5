// NeuMF (He et al., WWW 2017): a GMF branch (element-wise product of user and item
// embeddings) and an MLP branch (a tower over concatenated embeddings), fused by one linear
// layer into a click logit; trained with binary cross-entropy on sampled negatives.
#pragma once

#include "models/Recommender.h"

#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <vector>

namespace reclab {

struct NeuMFOptions {
    int64_t numUsers = 0;
    int64_t numItems = 0;
    int64_t gmfFactors = 8;
    std::vector<int64_t> mlpLayers = {64, 32, 16, 8}; // first = 2 x MLP embedding size
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

private:
    NeuMFOptions options_;
    torch::nn::Embedding userGmf_{nullptr}, itemGmf_{nullptr}, userMlp_{nullptr}, itemMlp_{nullptr};
    torch::nn::Sequential tower_{nullptr};
    torch::nn::Linear output_{nullptr};
};
TORCH_MODULE(NeuMF);

} // namespace reclab
