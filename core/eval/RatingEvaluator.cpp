#include "eval/RatingEvaluator.h"

#include "models/Recommender.h"

#include <torch/types.h>
#include <torch/utils.h>

namespace reclab {

RatingEvaluator::RatingEvaluator(const InteractionTable& test, float minRating, float maxRating)
    : userIds_(test.user.begin(), test.user.end()), truth_(test.rating.begin(), test.rating.end()), minRating_(minRating), maxRating_(maxRating)
{
    users_ = torch::tensor(std::vector<int64_t>(test.user.begin(), test.user.end()), torch::kLong);
    items_ = torch::tensor(std::vector<int64_t>(test.item.begin(), test.item.end()), torch::kLong);
}

MetricValues RatingEvaluator::evaluate(Recommender& model, const torch::Device& device, UserMetrics* perUser) const
{
    torch::NoGradGuard noGrad;
    const bool wasTraining = model.is_training();
    model.eval();
    auto scores = model.predict(users_.to(device), items_.to(device))
                      .clamp(minRating_, maxRating_)
                      .to(torch::kCPU, torch::kFloat)
                      .contiguous();
    model.train(wasTraining);
    const float* p = scores.data_ptr<float>();
    const std::vector<float> predicted(p, p + scores.numel());
    if (perUser)
        *perUser = userErrorMetrics(userIds_, predicted, truth_);
    return {{"rmse", rootMeanSquaredError(predicted, truth_)}, {"mae", meanAbsoluteError(predicted, truth_)}};
}

} // namespace reclab
