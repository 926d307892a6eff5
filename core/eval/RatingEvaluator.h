// Rating prediction accuracy on held-out rows: RMSE and MAE, with predictions clipped to the
// dataset's rating scale (as Surprise and most papers do).
#pragma once

#include "data/Dataset.h"
#include "eval/Metrics.h"

#include <torch/types.h>

namespace reclab {

class Recommender;

class RatingEvaluator {
public:
    RatingEvaluator(const InteractionTable& test, float minRating, float maxRating);
    MetricValues evaluate(Recommender& model, const torch::Device& device) const;

private:
    torch::Tensor users_, items_;
    std::vector<float> truth_;
    float minRating_, maxRating_;
};

} // namespace reclab
