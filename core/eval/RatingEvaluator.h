// Rating prediction accuracy on held-out rows: RMSE and MAE, with predictions clipped to the
// dataset's rating scale (as Surprise and most papers do).
#pragma once

#include "data/Dataset.h"
#include "runs/Metrics.h"

#include <torch/types.h>

namespace reclab {

class Recommender;

class RatingEvaluator {
public:
    RatingEvaluator(const InteractionTable& test, float minRating, float maxRating);
    // perUser, when given, receives each test user's rmse and mae.
    MetricValues evaluate(Recommender& model, const torch::Device& device, UserMetrics* perUser = nullptr) const;

private:
    torch::Tensor users_, items_;
    std::vector<int32_t> userIds_;
    std::vector<float> truth_;
    float minRating_, maxRating_;
};

} // namespace reclab
