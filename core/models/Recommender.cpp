#include "models/Recommender.h"

#include <torch/types.h>

namespace reclab {

torch::Tensor Recommender::fullSortPredict(const torch::Tensor& users)
{
    const int64_t n = numItems();
    const auto opts = torch::TensorOptions().dtype(torch::kLong).device(users.device());
    auto u = users.repeat_interleave(n);
    auto i = torch::arange(n, opts).repeat(users.size(0));
    return predict(u, i).view({users.size(0), n});
}

} // namespace reclab
