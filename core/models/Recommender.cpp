#include "models/Recommender.h"

#include <torch/types.h>

#include <algorithm>

namespace reclab {

torch::Tensor Recommender::trainingStep(const Batch& batch, double weight)
{
    auto loss = calculateLoss(batch);
    if (weight != 1.0)
        loss = loss * weight;
    loss.backward();
    return loss.detach();
}

torch::Tensor Recommender::fullSortPredict(const torch::Tensor& users)
{
    const int64_t n = numItems();
    const auto opts = torch::TensorOptions().dtype(torch::kLong).device(users.device());
    auto u = users.repeat_interleave(n);
    auto i = torch::arange(n, opts).repeat(users.size(0));
    return predict(u, i).view({users.size(0), n});
}

torch::Tensor Recommender::scoreWithHistory(int64_t user, const std::vector<int32_t>& history,
                                            const torch::Tensor& candidates, int historyLength)
{
    const int64_t n = candidates.size(0);
    if (family() == ModelFamily::General)
        return predict(torch::full({n}, user, candidates.options()), candidates);
    // In blocks of candidates: an attention unit's [candidates x behaviours, width] steps stay
    // small (a 27,000-item catalogue at once would take 430 MB per step).
    constexpr int64_t block = 128; // 6,400 rows of 80 floats per step at 50 behaviours, whatever the catalogue
    std::vector<torch::Tensor> parts;
    for (int64_t from = 0; from < n; from += block) {
        const Batch b = behaviourBatch(static_cast<int32_t>(user), history, candidates.narrow(0, from, std::min(block, n - from)),
                                       numItems(), historyLength, candidates.device());
        parts.push_back(predictBatch(b).view({-1}));
    }
    return parts.empty() ? torch::empty({0}, torch::TensorOptions().device(candidates.device())) : torch::cat(parts);
}

Batch behaviourBatch(int32_t user, const std::vector<int32_t>& history, const torch::Tensor& candidates,
                     int64_t numItems, int historyLength, const torch::Device& device)
{
    const int64_t n = candidates.size(0);
    // The latest historyLength behaviours when there are more.
    const size_t length = std::min(history.size(), static_cast<size_t>(historyLength));
    std::vector<int64_t> padded(static_cast<size_t>(historyLength), numItems);
    std::copy(history.end() - static_cast<std::ptrdiff_t>(length), history.end(), padded.begin());
    Batch b;
    b.users = torch::full({n}, static_cast<int64_t>(user), torch::kLong).to(device);
    b.items = candidates.to(device);
    b.history = torch::tensor(padded, torch::kLong).unsqueeze(0).expand({n, historyLength}).contiguous().to(device);
    b.historyLength = torch::full({n}, static_cast<int64_t>(length), torch::kLong).to(device);
    return b;
}

} // namespace reclab
