// A blend of two trained models: w · a + (1 − w) · b of their scores, each first put on one scale
// (its mean and spread over a seeded sample of user–item pairs), so that a cosine in [−1, 1] and
// a logit in the tens weigh as w says; two rating predictors are mixed as they are (their
// scores already share the rating scale, and the blend must stay a rating). The weight is
// chosen on a validation part (inspection/Blend.h); the blend is then scored like any model.
#pragma once

#include "models/Recommender.h"

#include <memory>

namespace reclab {

class BlendModelImpl : public Recommender {
public:
    // Both models score the same users and items (numItems equal); they read no behaviour history.
    BlendModelImpl(std::shared_ptr<Recommender> a, std::shared_ptr<Recommender> b, double weight, int64_t numUsers,
                   uint64_t seed = 17, bool ratings = false);

    ModelFamily family() const override { return a_->family(); }
    InputType inputType() const override { return InputType::Pointwise; }
    int64_t numItems() const override { return a_->numItems(); }
    bool trainable() const override { return false; }

    torch::Tensor calculateLoss(const Batch& batch) override;
    torch::Tensor predict(const torch::Tensor& users, const torch::Tensor& items) override;
    torch::Tensor fullSortPredict(const torch::Tensor& users) override;

    double weight() const { return weight_; }
    void setWeight(double weight) { weight_ = weight; }

private:
    struct Scale {
        double mean = 0, spread = 1;
    };
    torch::Tensor mix(const torch::Tensor& a, const torch::Tensor& b) const;
    std::shared_ptr<Recommender> a_, b_;
    double weight_;
    Scale sa_, sb_;
};
TORCH_MODULE(BlendModel);

} // namespace reclab
