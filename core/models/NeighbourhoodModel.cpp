#include "models/NeighbourhoodModel.h"

#include "util/Error.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <vector>

namespace reclab {

namespace {

constexpr int64_t kMaxDenseEntries = int64_t(400) << 20; // 1.6 GB of floats per matrix

// Rows are the entities compared (items for ItemKNN, users for UserKNN). An entity is never
// its own neighbour, and the k largest similarities are kept even when some are negative.
torch::Tensor pruneToNeighbours(torch::Tensor sim, int64_t k)
{
    const int64_t n = sim.size(0);
    if (k >= n - 1)
        return sim.fill_diagonal_(0.f);
    sim.fill_diagonal_(-std::numeric_limits<float>::infinity());
    const auto top = sim.topk(k, 1);
    auto pruned = torch::zeros_like(sim);
    pruned.scatter_(1, std::get<1>(top), std::get<0>(top));
    return pruned;
}

} // namespace

NeighbourhoodImpl::NeighbourhoodImpl(const InteractionTable& train, const NeighbourhoodOptions& options)
    : options_(options)
{
    const int64_t users = options.numUsers, items = options.numItems;
    const bool itemBased = options.kind == NeighbourhoodOptions::ItemBased;
    const int64_t entities = itemBased ? items : users;
    const char* name = options.ratings ? (itemBased ? "itemcf" : "usercf") : (itemBased ? "itemknn" : "userknn");
    if (users * items > kMaxDenseEntries || entities * entities > kMaxDenseEntries)
        throw ConfigError("model", std::string(name) + " keeps dense matrices; " + std::to_string(users) + " users x " +
                                       std::to_string(items) +
                                       " items is too large here (prepare a k-core subset, or use " +
                                       (options.ratings ? "mf" : "bpr or gmf") + ")");
    if (options.neighbours < 1)
        throw ConfigError("neighbours", "expected at least 1");
    torch::NoGradGuard noGrad;
    const auto started = std::chrono::steady_clock::now();

    auto x = torch::zeros({users, items}, torch::kFloat);
    auto ratings = torch::zeros({users, items}, torch::kFloat);
    float* xp = x.data_ptr<float>();
    float* rp = ratings.data_ptr<float>();
    for (size_t r = 0; r < train.size(); ++r) {
        const int64_t cell = int64_t(train.user[r]) * items + train.item[r];
        xp[cell] = 1.f;
        rp[cell] = train.rating[r];
    }
    interactions_ = register_buffer("interactions", x);

    // The vectors compared, one row per entity.
    torch::Tensor v;
    if (options.similarity == NeighbourhoodOptions::Cosine) {
        v = itemBased ? x.t().contiguous() : x;
    } else {
        // Pearson: each row's ratings minus the row's mean rating; unrated entries stay 0.
        auto rows = itemBased ? ratings.t().contiguous() : ratings;
        auto mask = itemBased ? x.t().contiguous() : x;
        const auto counts = mask.sum(1, true).clamp_min(1.f);
        const auto means = rows.sum(1, true) / counts;
        v = (rows - means) * mask;
    }
    const auto norms = v.norm(2, 1, true);
    auto sim = torch::mm(v, v.t()) / (torch::mm(norms, norms.t()) + static_cast<float>(options.shrink) + 1e-12f);
    if (options.ratings) {
        // k is applied per (user, item) among the neighbours that rated it, so all stay.
        similarity_ = register_buffer("similarity", sim.fill_diagonal_(0.f));
        // Means over each side's own ratings; candidates and their centred ratings laid out
        // by the pair's other side.
        const auto byQuery = itemBased ? x.t() : x;         // [queries, others]
        const auto ratingsByQuery = itemBased ? ratings.t() : ratings;
        means_ = register_buffer("means", ratingsByQuery.sum(1) / byQuery.sum(1).clamp_min(1.f));
        const auto centred = (ratingsByQuery - means_.unsqueeze(1)) * byQuery; // [queries, others]
        candidates_ = register_buffer("candidates", byQuery.t().contiguous());  // [others, queries]
        centred_ = register_buffer("centred", centred.t().contiguous());
    } else {
        similarity_ = register_buffer("similarity", pruneToNeighbours(sim, options.neighbours));
    }
    similaritySeconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

torch::Tensor NeighbourhoodImpl::calculateLoss(const Batch& batch)
{
    return torch::zeros({}, batch.labels.options());
}

torch::Tensor NeighbourhoodImpl::fullSortPredict(const torch::Tensor& users)
{
    if (options_.kind == NeighbourhoodOptions::ItemBased)
        return torch::mm(interactions_.index_select(0, users), similarity_.t()); // sum_j s_ij x_uj
    return torch::mm(similarity_.index_select(0, users), interactions_);         // sum_v s_uv x_vi
}

torch::Tensor NeighbourhoodImpl::predictRatings(const torch::Tensor& users, const torch::Tensor& items) const
{
    const bool itemBased = options_.kind == NeighbourhoodOptions::ItemBased;
    const auto& query = itemBased ? items : users;
    const auto& other = itemBased ? users : items;
    const int64_t k = std::min<int64_t>(options_.neighbours, similarity_.size(1));
    auto out = torch::empty({users.size(0)}, similarity_.options());
    const int64_t chunk = 2048;
    for (int64_t start = 0; start < users.size(0); start += chunk) {
        const int64_t len = std::min(chunk, users.size(0) - start);
        const auto q = query.narrow(0, start, len);
        const auto o = other.narrow(0, start, len);
        const auto s = similarity_.index_select(0, q);       // [len, queries]
        const auto rated = candidates_.index_select(0, o);   // 1 where the candidate rated o
        auto masked = s.masked_fill(rated == 0, -std::numeric_limits<float>::infinity());
        const auto [top, at] = masked.topk(k, 1);
        const auto w = top.clamp_min(0.f);                   // positive similarities only; -inf -> 0
        const auto r = centred_.index_select(0, o).gather(1, at);
        const auto num = (w * r).sum(1);
        const auto den = w.sum(1);
        const auto base = means_.index_select(0, q);
        out.narrow(0, start, len).copy_(torch::where(den > 0, base + num / den.clamp_min(1e-12f), base));
    }
    return out;
}

torch::Tensor NeighbourhoodImpl::predict(const torch::Tensor& users, const torch::Tensor& items)
{
    if (options_.ratings)
        return predictRatings(users, items);
    // Score each distinct user against all items once, then pick the pairs.
    const auto unique = at::_unique(users, /*sorted=*/true, /*return_inverse=*/true);
    const auto full = fullSortPredict(std::get<0>(unique));
    return full.index({std::get<1>(unique), items});
}

} // namespace reclab
