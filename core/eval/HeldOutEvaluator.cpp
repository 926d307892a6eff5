#include "eval/HeldOutEvaluator.h"

#include "eval/SampledRankingEvaluator.h"
#include "models/Recommender.h"

#include <torch/utils.h>

#include <algorithm>
#include <cmath>

namespace reclab {

HeldOutEvaluator::HeldOutEvaluator(const HeldOutInteractions& part, const UserItemIndex& seen, UserItemIndex exclude,
                                   int32_t numItems, const HeldOutOptions& options)
    : part_(part), exclude_(std::move(exclude)), numItems_(numItems), options_(options)
{
    const std::vector<int32_t> negatives =
        drawNegatives(part.user, seen, numItems, options.negatives, options.seed, "common", "");
    const auto n = static_cast<size_t>(options.negatives);
    candidates_.resize(part.size() * (n + 1));
    for (size_t row = 0; row < part.size(); ++row) {
        candidates_[row * (n + 1)] = part.item[row];
        std::copy_n(negatives.begin() + static_cast<long>(row * n), n, candidates_.begin() + static_cast<long>(row * (n + 1) + 1));
    }
}

bool HeldOutEvaluator::readsHistory(Recommender& model) const
{
    return model.family() != ModelFamily::General;
}

std::vector<float> HeldOutEvaluator::sampledScores(Recommender& model, const torch::Device& device) const
{
    const auto rows = static_cast<int64_t>(part_.size());
    const int64_t w = width();
    const auto all = torch::from_blob(const_cast<int32_t*>(candidates_.data()), {rows, w}, torch::kInt).to(torch::kLong);
    std::vector<float> out(static_cast<size_t>(rows * w));
    auto keep = [&](int64_t start, const torch::Tensor& scores) {
        const auto cpu = scores.to(torch::kCPU, torch::kFloat).contiguous();
        std::copy_n(cpu.data_ptr<float>(), cpu.numel(), out.begin() + start * w);
    };
    if (!readsHistory(model)) {
        // Chunks of about 16k pairs on the CPU (as the sampled ranking does), 1M on a GPU.
        const int64_t chunk = std::max<int64_t>(1, (device.is_cpu() ? int64_t(1) << 14 : int64_t(1) << 20) / w);
        std::vector<int64_t> users(part_.user.begin(), part_.user.end());
        const auto userTensor = torch::tensor(users, torch::kLong);
        for (int64_t start = 0; start < rows; start += chunk) {
            const int64_t len = std::min(chunk, rows - start);
            const auto u = userTensor.narrow(0, start, len).to(device).unsqueeze(1).expand({len, w}).reshape({-1});
            keep(start, model.predict(u, all.narrow(0, start, len).to(device).reshape({-1})));
        }
        return out;
    }
    const auto onDevice = all.to(device);
    for (int64_t row = 0; row < rows; ++row)
        keep(row, model.scoreWithHistory(part_.user[static_cast<size_t>(row)], part_.history[static_cast<size_t>(row)],
                                         onDevice[row], options_.historyLength));
    return out;
}

std::vector<int64_t> HeldOutEvaluator::fullRanks(Recommender& model, const torch::Device& device) const
{
    const size_t rows = part_.size();
    std::vector<int64_t> ranks(rows, 0);
    const auto rankRow = [&](size_t row, const float* scores) {
        const int32_t user = part_.user[row];
        const float target = scores[part_.item[row]];
        if (std::isnan(target)) { // a score that is no number ranks last
            ranks[row] = numItems_;
            return;
        }
        // Ties count against the held-out item: a model scoring everything alike ranks it last,
        // not first. The held-out item itself is the one "tie" that does not count.
        int64_t above = -1;
        for (int32_t item = 0; item < numItems_; ++item)
            above += scores[item] >= target;
        // Excluded items do not compete (the held-out item is never excluded: it is not trained on).
        for (const int32_t* e = exclude_.begin(user); e != exclude_.end(user); ++e)
            above -= scores[*e] >= target;
        ranks[row] = above;
    };
    if (!readsHistory(model)) {
        const int64_t chunk = std::max<int64_t>(1, (int64_t(1) << 22) / std::max<int32_t>(numItems_, 1));
        for (size_t start = 0; start < rows; start += static_cast<size_t>(chunk)) {
            const size_t len = std::min(rows - start, static_cast<size_t>(chunk));
            std::vector<int64_t> users(part_.user.begin() + static_cast<long>(start),
                                       part_.user.begin() + static_cast<long>(start + len));
            const auto scores =
                model.fullSortPredict(torch::tensor(users, torch::kLong).to(device)).to(torch::kCPU, torch::kFloat).contiguous();
            for (size_t k = 0; k < len; ++k)
                rankRow(start + k, scores.data_ptr<float>() + k * static_cast<size_t>(numItems_));
        }
        return ranks;
    }
    const auto items = torch::arange(numItems_, torch::TensorOptions().dtype(torch::kLong).device(device));
    for (size_t row = 0; row < rows; ++row) {
        const auto scores = model.scoreWithHistory(part_.user[row], part_.history[row], items, options_.historyLength)
                                .to(torch::kCPU, torch::kFloat)
                                .contiguous();
        rankRow(row, scores.data_ptr<float>());
    }
    return ranks;
}

MetricValues HeldOutEvaluator::evaluate(Recommender& model, const torch::Device& device, int k, UserMetrics* perUser) const
{
    torch::NoGradGuard noGrad;
    const bool wasTraining = model.is_training();
    model.eval();
    const std::vector<float> scores = sampledScores(model, device);
    const std::vector<int64_t> full = options_.allItems ? fullRanks(model, device) : std::vector<int64_t>();
    model.train(wasTraining);

    const size_t rows = part_.size();
    const auto w = static_cast<size_t>(width());
    std::vector<int64_t> ranks(rows);
    std::vector<double> userAuc(rows);
    std::vector<float> labels(scores.size(), 0.f);
    std::vector<int32_t> sampleUsers(scores.size());
    for (size_t row = 0; row < rows; ++row) {
        const float* s = scores.data() + row * w;
        int64_t above = 0, ties = 0;
        for (size_t c = 1; c < w; ++c) {
            above += s[c] > s[0];
            ties += s[c] == s[0];
        }
        // Ties count against the held-out item for the rank (a constant score ranks it last; a
        // NaN one too) and as one half for the AUC.
        ranks[row] = std::isnan(s[0]) ? static_cast<int64_t>(w - 1) : above + ties;
        userAuc[row] = (static_cast<double>(w - 1 - static_cast<size_t>(above + ties)) + 0.5 * static_cast<double>(ties)) /
                       static_cast<double>(w - 1);
        labels[row * w] = 1.f;
        std::fill_n(sampleUsers.begin() + static_cast<long>(row * w), w, part_.user[row]);
    }
    const std::string at = "@" + std::to_string(k);
    MetricValues out{{"hr" + at, hitRateAtK(ranks, k)}, {"ndcg" + at, ndcgAtK(ranks, k)}, {"mrr" + at, mrrAtK(ranks, k)}};
    if (options_.allItems) {
        out.push_back({kFullPrefix + std::string("hr") + at, hitRateAtK(full, k)});
        out.push_back({kFullPrefix + std::string("ndcg") + at, ndcgAtK(full, k)});
        out.push_back({kFullPrefix + std::string("mrr") + at, mrrAtK(full, k)});
    }
    out.push_back({"auc", areaUnderCurve(scores, labels)});
    out.push_back({"gauc", groupAreaUnderCurve(sampleUsers, scores, labels)});
    std::vector<float> predicted, truth;
    if (options_.logits) {
        std::vector<float> p(scores.size());
        std::transform(scores.begin(), scores.end(), p.begin(), [](float x) { return 1.f / (1.f + std::exp(-x)); });
        out.push_back({"logloss", logLoss(p, labels)});
    }
    if (options_.ratings) {
        for (size_t row = 0; row < rows; ++row) {
            predicted.push_back(std::clamp(scores[row * w], options_.minRating, options_.maxRating));
            truth.push_back(part_.rating[row]);
        }
        out.push_back({"rmse", rootMeanSquaredError(predicted, truth)});
        out.push_back({"mae", meanAbsoluteError(predicted, truth)});
    }
    if (perUser) {
        std::vector<UserRanking> rankings(rows);
        for (size_t row = 0; row < rows; ++row)
            rankings[row] = {{ranks[row]}, 1};
        *perUser = userTopKMetrics(part_.user, rankings, k, false);
        perUser->push_back({"auc", part_.user, userAuc});
        if (options_.ratings)
            for (UserMetric& m : userErrorMetrics(part_.user, predicted, truth))
                perUser->push_back(std::move(m));
    }
    return out;
}

} // namespace reclab
