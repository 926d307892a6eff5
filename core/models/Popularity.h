// Most-popular baseline: an item's score is its number of training interactions.
#pragma once

#include "data/Dataset.h"
#include "models/Recommender.h"

namespace reclab {

class PopularityImpl : public Recommender {
public:
    PopularityImpl(const InteractionTable& train, int64_t numItems);

    ModelFamily family() const override { return ModelFamily::General; }
    InputType inputType() const override { return InputType::Pointwise; }
    int64_t numItems() const override { return counts_.size(0); }
    bool trainable() const override { return false; }

    torch::Tensor calculateLoss(const Batch& batch) override;
    torch::Tensor predict(const torch::Tensor& users, const torch::Tensor& items) override;
    torch::Tensor fullSortPredict(const torch::Tensor& users) override;

private:
    torch::Tensor counts_;
};
TORCH_MODULE(Popularity);

} // namespace reclab
