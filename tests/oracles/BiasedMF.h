// Biased matrix factorisation for rating prediction (Koren, Bell & Volinsky 2009):
// r(u,i) = mu + b_u + b_i + p_u . q_i, trained on squared error with L2 on the rows used.
#pragma once

#include "models/Recommender.h"

#include <torch/nn/modules/embedding.h>

namespace reclab {

struct BiasedMFOptions {
    int64_t numUsers = 0;
    int64_t numItems = 0;
    int64_t factors = 32;
    double globalMean = 0.0;
    double l2 = 0.02; // weight of the squared norms of the batch's biases and factors
};

class BiasedMFImpl : public Recommender {
public:
    explicit BiasedMFImpl(const BiasedMFOptions& options);

    ModelFamily family() const override { return ModelFamily::General; }
    InputType inputType() const override { return InputType::Pointwise; }
    int64_t numItems() const override { return options_.numItems; }

    torch::Tensor forward(const torch::Tensor& users, const torch::Tensor& items);
    torch::Tensor calculateLoss(const Batch& batch) override;
    torch::Tensor predict(const torch::Tensor& users, const torch::Tensor& items) override;

private:
    BiasedMFOptions options_;
    torch::nn::Embedding userFactors_{nullptr}, itemFactors_{nullptr}, userBias_{nullptr}, itemBias_{nullptr};
};
TORCH_MODULE(BiasedMF);

} // namespace reclab
