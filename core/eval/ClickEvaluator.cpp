#include "eval/ClickEvaluator.h"

#include "models/Recommender.h"

#include <torch/types.h>
#include <torch/utils.h>

namespace reclab {

BehaviourTensors behaviourTensors(const BehaviourSamples& samples, const std::vector<uint32_t>* order)
{
    const auto n = static_cast<int64_t>(samples.size());
    const int64_t L = samples.maxHistory;
    BehaviourTensors t{torch::empty({n}, torch::kLong), torch::empty({n}, torch::kLong), torch::empty({n}, torch::kFloat),
                       torch::empty({n, L}, torch::kLong), torch::empty({n}, torch::kLong)};
    auto* u = t.users.data_ptr<int64_t>();
    auto* i = t.items.data_ptr<int64_t>();
    auto* y = t.labels.data_ptr<float>();
    auto* h = t.history.data_ptr<int64_t>();
    auto* len = t.historyLength.data_ptr<int64_t>();
    for (int64_t k = 0; k < n; ++k) {
        const size_t r = order ? (*order)[static_cast<size_t>(k)] : static_cast<size_t>(k);
        u[k] = samples.user[r];
        i[k] = samples.item[r];
        y[k] = samples.label[r];
        len[k] = samples.length[r];
        const int32_t* from = samples.history.data() + r * static_cast<size_t>(L);
        for (int64_t j = 0; j < L; ++j)
            h[k * L + j] = from[j];
    }
    return t;
}

ClickEvaluator::ClickEvaluator(const BehaviourSamples& test, int64_t batchSize)
    : test_(behaviourTensors(test)), users_(test.user), labels_(test.label), batchSize_(batchSize)
{
}

std::vector<float> ClickEvaluator::probabilities(Recommender& model, const torch::Device& device) const
{
    torch::NoGradGuard noGrad;
    const bool wasTraining = model.is_training();
    model.eval();
    const int64_t n = test_.users.size(0);
    std::vector<float> out;
    out.reserve(static_cast<size_t>(n));
    for (int64_t start = 0; start < n; start += batchSize_) {
        const int64_t len = std::min(batchSize_, n - start);
        Batch b;
        b.users = test_.users.narrow(0, start, len).to(device);
        b.items = test_.items.narrow(0, start, len).to(device);
        b.history = test_.history.narrow(0, start, len).to(device);
        b.historyLength = test_.historyLength.narrow(0, start, len).to(device);
        const auto p = torch::sigmoid(model.predictBatch(b)).to(torch::kCPU, torch::kFloat).contiguous();
        out.insert(out.end(), p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
    }
    model.train(wasTraining);
    return out;
}

MetricValues ClickEvaluator::evaluate(Recommender& model, const torch::Device& device, UserMetrics* perUser) const
{
    const std::vector<float> p = probabilities(model, device);
    if (perUser)
        *perUser = userClickMetrics(users_, p, labels_);
    return {{"auc", areaUnderCurve(p, labels_)},
            {"gauc", groupAreaUnderCurve(users_, p, labels_)},
            {"logloss", logLoss(p, labels_)}};
}

} // namespace reclab
