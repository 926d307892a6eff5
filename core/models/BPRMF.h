// BPR-MF (Rendle et al., UAI 2009): matrix factorisation for implicit feedback, trained on
// (user, consumed item, unconsumed item) triples to rank the consumed item higher:
// loss = -log sigmoid(p_u . q_i - p_u . q_j), plus optional L2 on the batch's factors.
#pragma once

#include "models/Recommender.h"

#include <torch/nn/modules/embedding.h>

namespace reclab {

struct BPRMFOptions {
    int64_t numUsers = 0;
    int64_t numItems = 0;
    int64_t factors = 64;
    double l2 = 0.0;
};

class BPRMFImpl : public Recommender {
public:
    explicit BPRMFImpl(const BPRMFOptions& options);

    ModelFamily family() const override { return ModelFamily::General; }
    InputType inputType() const override { return InputType::Pairwise; }
    int64_t numItems() const override { return options_.numItems; }

    // batch.items are the consumed items, batch.negItems the sampled unconsumed ones.
    torch::Tensor calculateLoss(const Batch& batch) override;
    torch::Tensor predict(const torch::Tensor& users, const torch::Tensor& items) override;
    torch::Tensor fullSortPredict(const torch::Tensor& users) override;

private:
    BPRMFOptions options_;
    torch::nn::Embedding userFactors_{nullptr}, itemFactors_{nullptr};
};
TORCH_MODULE(BPRMF);

} // namespace reclab
