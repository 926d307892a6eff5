// SVD++ (Koren, KDD 2008): biased matrix factorisation whose user vector also holds what the
// user rated, whatever the rating,
//   r̂_ui = μ + b_u + b_i + q_iᵀ (p_u + |N(u)|^−½ Σ_{j∈N(u)} y_j),
// N(u) the items u rated in the training part. Trained on squared error with mini-batches and
// Adam like biased MF, with L2 on the batch's rows (biases at a tenth) and on the y_j each row
// reads (l2_y · the mean over N(u) of ‖y_j‖², so a heavy rater's items are not penalised more).
#pragma once

#include "data/Dataset.h"
#include "data/UserItemIndex.h"
#include "models/Recommender.h"

#include <torch/nn/modules/embedding.h>

#include <vector>

namespace reclab {

// The implicit factors' L2 as a multiple of the run's l2: chosen on a validation part of ml-100k's
// u1.base (l2_y of 0.5, 1, 2, 5 and 20 at l2 0.08 and 0.115; README).
constexpr double kSvdppImplicitL2 = 25.0;

struct SVDppOptions {
    int64_t numUsers = 0;
    int64_t numItems = 0;
    int64_t factors = 64;
    double globalMean = 0.0;
    double l2 = 0.0;
    double implicitL2 = -1; // < 0: the same as l2
};

class SVDppImpl : public Recommender {
public:
    // train: the training part (N(u) is every item a user rated there).
    SVDppImpl(const InteractionTable& train, const SVDppOptions& options);

    ModelFamily family() const override { return ModelFamily::General; }
    InputType inputType() const override { return InputType::Pointwise; }
    int64_t numItems() const override { return options_.numItems; }

    // batch.labels are ratings.
    torch::Tensor calculateLoss(const Batch& batch) override;
    torch::Tensor predict(const torch::Tensor& users, const torch::Tensor& items) override;
    torch::Tensor fullSortPredict(const torch::Tensor& users) override;

private:
    // p_u + |N(u)|^−½ Σ y_j for each user [n, k], and into *penalty (when given) the rows'
    // implicit L2 term.
    torch::Tensor userVectors(const torch::Tensor& users, torch::Tensor* implicitPenalty = nullptr);

    SVDppOptions options_;
    UserItemIndex rated_; // N(u)
    torch::nn::Embedding userFactors_{nullptr}, itemFactors_{nullptr}, implicit_{nullptr};
    torch::nn::Embedding userBias_{nullptr}, itemBias_{nullptr};
};
TORCH_MODULE(SVDpp);

} // namespace reclab
