#include "inspection/Recommendations.h"

#include "compiled/GraphModule.h"
#include "models/Recommender.h"
#include "inspection/Attention.h"
#include "inspection/TextExplain.h"
#include "train/EmbeddingSnapshots.h"
#include "util/Error.h"

#include <torch/nn/functional/normalization.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <iterator>
#include <limits>

namespace reclab {

namespace {

struct AllScores {
    torch::Tensor scores;          // [items], on the CPU
    torch::Tensor weights;         // [items, behaviours]: attention weights, when the model has them
    std::vector<int32_t> history;  // the behaviours scored against (models that read them)
};

// Scores of every item for the user: the model's full sort, or for a model that reads
// behaviours, every item as a candidate against the user's latest ones.
AllScores scoreAllItems(Recommender& model, const InteractionIndex& index, int32_t user, int historyLength)
{
    const Dataset& data = index.data();
    torch::NoGradGuard noGrad;
    const auto device = model.parameters().empty() ? torch::Device(torch::kCPU) : model.parameters().front().device();
    const int64_t n = data.numItems();
    if (model.family() == ModelFamily::General)
        return {model.fullSortPredict(torch::tensor({static_cast<int64_t>(user)}, torch::kLong).to(device))
                    .view({n})
                    .to(torch::kCPU, torch::kFloat),
                {},
                {}};
    const std::vector<int32_t> history = userHistory(index, user, historyLength);
    const auto all = torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(device));
    if (auto* graph = dynamic_cast<GraphModelImpl*>(&model); graph && graph->sharesHistory() && !graph->is_training()) {
        AllScores out;
        out.history = history;
        const auto behaviours = torch::tensor(std::vector<int64_t>(history.begin(), history.end()), torch::kLong).to(device);
        out.scores = graph->scoreHistory(user, behaviours, all, &out.weights).to(torch::kCPU, torch::kFloat);
        if (out.weights.defined())
            out.weights = out.weights.to(torch::kCPU, torch::kFloat);
        return out;
    }
    return {model.scoreWithHistory(user, history, all, historyLength).to(torch::kCPU, torch::kFloat), {}, history};
}

// Leave-one-out over the latest behaviours of a next-item model: how much each of the latest
// `window` behaviours raises each item's score, the score with the whole history less the score
// with that behaviour left out (the ones before it then read as the history). Each history is
// scored once for all the items (shared-history scoring where the graph allows it). Returns
// [items, window]; recent gets those behaviours.
torch::Tensor scoreDrops(Recommender& model, const InteractionIndex& index, int32_t user, const std::vector<int32_t>& items,
                         int historyLength, int window, std::vector<int32_t>& recent)
{
    torch::NoGradGuard noGrad;
    const std::vector<int32_t> history = userHistory(index, user, historyLength);
    const auto w = static_cast<int64_t>(std::min<size_t>(static_cast<size_t>(window), history.size()));
    recent.assign(history.end() - w, history.end());
    model.eval();
    const auto candidates = torch::tensor(std::vector<int64_t>(items.begin(), items.end()), torch::kLong)
                                .to(model.parameters().front().device());
    const auto score = [&](const std::vector<int32_t>& h) {
        return model.scoreWithHistory(user, h, candidates, historyLength).to(torch::kCPU, torch::kDouble);
    };
    const torch::Tensor whole = score(history);
    auto drops = torch::empty({static_cast<int64_t>(items.size()), w}, torch::kDouble);
    for (int64_t v = 0; v < w; ++v) {
        std::vector<int32_t> without = history;
        without.erase(without.end() - w + v);
        drops.select(1, v).copy_(whole - score(without));
    }
    return drops;
}

bool predictsNextItems(Recommender& model)
{
    const auto* graph = dynamic_cast<const GraphModelImpl*>(&model);
    return graph && graph->analysis().nextItems;
}

// Similarity of each recommended item to each liked item: cosine of the model's item
// embeddings (concatenated when it has several item tables), else of the items' user sets.
torch::Tensor similarities(Recommender& model, const InteractionIndex& interactions, const std::vector<int32_t>& recommended,
                           const std::vector<int32_t>& liked)
{
    const Dataset& data = interactions.data();
    std::vector<torch::Tensor> parts;
    for (const auto& t : embeddingTables(model, data.numUsers(), data.numItems(), false))
        if (t.kind == "items")
            parts.push_back(t.weights);
    const auto index = [](const std::vector<int32_t>& items) {
        return torch::tensor(std::vector<int64_t>(items.begin(), items.end()), torch::kLong);
    };
    if (!parts.empty()) {
        // Only the rows compared, each the concatenation of its tables, at unit length.
        const auto unitRows = [&](const std::vector<int32_t>& items) {
            std::vector<torch::Tensor> rows;
            for (const auto& part : parts)
                rows.push_back(part.index_select(0, index(items)));
            return torch::nn::functional::normalize(torch::cat(rows, 1), torch::nn::functional::NormalizeFuncOptions().dim(1));
        };
        return unitRows(recommended).mm(unitRows(liked).t());
    }
    torch::Tensor out = torch::zeros({static_cast<int64_t>(recommended.size()), static_cast<int64_t>(liked.size())});
    for (size_t a = 0; a < recommended.size(); ++a)
        for (size_t b = 0; b < liked.size(); ++b) {
            const auto [ua, uaEnd] = interactions.usersOf(recommended[a]);
            const auto [ub, ubEnd] = interactions.usersOf(liked[b]);
            if (ua == uaEnd || ub == ubEnd)
                continue;
            std::vector<int32_t> common;
            std::set_intersection(ua, uaEnd, ub, ubEnd, std::back_inserter(common));
            out[static_cast<int64_t>(a)][static_cast<int64_t>(b)] =
                static_cast<double>(common.size()) / std::sqrt(static_cast<double>(uaEnd - ua) * static_cast<double>(ubEnd - ub));
        }
    return out;
}

} // namespace

InteractionIndex::InteractionIndex(const Dataset& data) : data_(data)
{
    const auto& t = data.interactions;
    std::vector<uint32_t> rows(t.size());
    std::iota(rows.begin(), rows.end(), 0u);
    std::stable_sort(rows.begin(), rows.end(), [&](uint32_t a, uint32_t b) {
        return t.user[a] != t.user[b] ? t.user[a] < t.user[b] : t.timestamp[a] < t.timestamp[b];
    });
    userRows_ = std::move(rows);
    userStart_.assign(static_cast<size_t>(data.numUsers()) + 1, 0);
    for (const int32_t u : t.user)
        ++userStart_[static_cast<size_t>(u) + 1];
    std::partial_sum(userStart_.begin(), userStart_.end(), userStart_.begin());
    itemStart_.assign(static_cast<size_t>(data.numItems()) + 1, 0);
    for (const int32_t i : t.item)
        ++itemStart_[static_cast<size_t>(i) + 1];
    std::partial_sum(itemStart_.begin(), itemStart_.end(), itemStart_.begin());
    itemUsers_.resize(t.size());
    std::vector<uint32_t> fill(itemStart_.begin(), itemStart_.end() - 1);
    for (const uint32_t r : userRows_) // users ascending, so each item's users come out sorted
        itemUsers_[fill[static_cast<size_t>(t.item[r])]++] = t.user[r];
    for (size_t i = 0; i + 1 < itemStart_.size(); ++i) { // a user who rated an item twice counts once
        auto* begin = itemUsers_.data() + itemStart_[i];
        auto* end = itemUsers_.data() + itemStart_[i + 1];
        std::fill(std::unique(begin, end), end, -1);
    }
}

std::pair<const uint32_t*, const uint32_t*> InteractionIndex::rowsOf(int32_t user) const
{
    const auto u = static_cast<size_t>(user);
    return {userRows_.data() + userStart_[u], userRows_.data() + userStart_[u + 1]};
}

std::pair<const int32_t*, const int32_t*> InteractionIndex::usersOf(int32_t item) const
{
    const auto i = static_cast<size_t>(item);
    const int32_t* begin = itemUsers_.data() + itemStart_[i];
    const int32_t* end = itemUsers_.data() + itemStart_[i + 1];
    while (end > begin && *(end - 1) < 0) // duplicates were moved to the end as -1
        --end;
    return {begin, end};
}

std::vector<int32_t> userHistory(const InteractionIndex& index, int32_t user, int length)
{
    const auto [begin, end] = index.rowsOf(user);
    const auto from = end - begin > length ? end - length : begin;
    std::vector<int32_t> out;
    for (const uint32_t* r = from; r != end; ++r)
        out.push_back(index.data().interactions.item[*r]);
    return out;
}

std::vector<int32_t> likedItems(const InteractionIndex& index, int32_t user)
{
    const Dataset& data = index.data();
    const bool scaled = data.minRating() < data.maxRating();
    std::vector<int32_t> out;
    const auto [begin, end] = index.rowsOf(user);
    for (const uint32_t* r = begin; r != end; ++r)
        if (!scaled || data.interactions.rating[*r] >= 4.f)
            out.push_back(data.interactions.item[*r]);
    return out;
}

std::vector<Recommendation> recommend(Recommender& model, const InteractionIndex& index, int32_t user,
                                      const RecommendOptions& o)
{
    const Dataset& data = index.data();
    if (user < 0 || user >= data.numUsers())
        throw Error(data.name + " has no user index " + std::to_string(user) + " (it has " +
                    std::to_string(data.numUsers()) + " users)");
    AllScores all = scoreAllItems(model, index, user, o.historyLength);
    torch::Tensor scores = all.scores.contiguous().clone();
    // Seen items never come back.
    float* s = scores.data_ptr<float>();
    const auto [begin, end] = index.rowsOf(user);
    for (const uint32_t* r = begin; r != end; ++r)
        s[data.interactions.item[*r]] = -std::numeric_limits<float>::infinity();
    const int64_t k = std::min<int64_t>(o.k, scores.size(0));
    auto [top, which] = scores.topk(k);
    std::vector<Recommendation> out;
    std::vector<int32_t> items;
    for (int64_t r = 0; r < k; ++r) {
        if (!std::isfinite(top[r].item<float>()))
            break; // the user has seen everything else
        items.push_back(static_cast<int32_t>(which[r].item<int64_t>()));
        out.push_back({items.back(), static_cast<double>(top[r].item<float>()), {}, {}});
    }
    if (out.empty() || o.explain <= 0)
        return out;
    if (predictsNextItems(model)) {
        // "Because you just watched": the recent behaviours whose absence would lower the score most.
        std::vector<int32_t> recent;
        const torch::Tensor drops = scoreDrops(model, index, user, items, o.historyLength, 10, recent);
        if (recent.empty())
            return out;
        auto [best, strongest] = drops.topk(std::min<int64_t>(o.explain, drops.size(1)), 1);
        for (size_t r = 0; r < out.size(); ++r)
            for (int64_t j = 0; j < best.size(1); ++j)
                if (best[static_cast<int64_t>(r)][j].item<double>() > 0) // only behaviours that raised it
                    out[r].because.emplace_back(recent[static_cast<size_t>(strongest[static_cast<int64_t>(r)][j].item<int64_t>())],
                                                best[static_cast<int64_t>(r)][j].item<double>());
        return out;
    }
    if (dynamic_cast<GraphModelImpl*>(&model) && model.family() == ModelFamily::Sequential) {
        // DIN: the behaviours its attention unit weighed most for each recommended item (the
        // weights scoring gave, else those of a pass over the recommended items).
        std::vector<int32_t> history;
        torch::Tensor weights;
        if (all.weights.defined()) {
            if (all.weights.size(1) == 0)
                return out; // no behaviours to point at
            history = std::move(all.history);
            weights = all.weights.index_select(0, torch::tensor(std::vector<int64_t>(items.begin(), items.end()), torch::kLong));
        } else {
            AttentionMap map = attentionMap(model, index, user, items, o.historyLength);
            history = std::move(map.history);
            weights = map.weights;
        }
        auto [best, strongest] = weights.topk(std::min<int64_t>(o.explain, weights.size(1)), 1);
        for (size_t r = 0; r < out.size(); ++r)
            for (int64_t j = 0; j < best.size(1); ++j)
                out[r].because.emplace_back(history[static_cast<size_t>(strongest[static_cast<int64_t>(r)][j].item<int64_t>())],
                                            best[static_cast<int64_t>(r)][j].item<double>());
        return out;
    }
    const std::vector<int32_t> liked = likedItems(index, user);
    if (liked.empty())
        return out;
    if (readsItemText(model)) {
        // "Because its text resembles": the liked items nearest by their words, and the words shared.
        const auto near = textNeighbours(data, items, liked, o.explain);
        for (size_t r = 0; r < out.size(); ++r)
            for (const TextNeighbour& n : near[r]) {
                out[r].because.emplace_back(n.item, n.cosine);
                out[r].sharedWords.push_back(n.words);
            }
        return out;
    }
    const torch::Tensor sim = similarities(model, index, items, liked).to(torch::kFloat);
    const int64_t e = std::min<int64_t>(o.explain, static_cast<int64_t>(liked.size()));
    auto [best, nearest] = sim.topk(e, 1);
    for (size_t r = 0; r < out.size(); ++r)
        for (int64_t j = 0; j < e; ++j)
            out[r].because.emplace_back(liked[static_cast<size_t>(nearest[static_cast<int64_t>(r)][j].item<int64_t>())],
                                        best[static_cast<int64_t>(r)][j].item<double>());
    return out;
}

UserPath userPath(Recommender& model, const InteractionIndex& index, int32_t user, int historyLength, int steps, int k)
{
    const Dataset& data = index.data();
    if (!predictsNextItems(model))
        throw Error("a user's path needs a model that predicts the next item from the behaviour sequence (GRU4Rec, "
                    "SASRec, Caser, NARM, seq2seq)");
    if (user < 0 || user >= data.numUsers())
        throw Error(data.name + " has no user index " + std::to_string(user));
    // The latest `steps` behaviours, each scored with the history up to it (at most historyLength).
    const std::vector<int32_t> history = userHistory(index, user, historyLength + steps);
    if (history.empty())
        throw Error("user " + data.userIds[static_cast<size_t>(user)] + " has no behaviours");
    torch::NoGradGuard noGrad;
    model.eval();
    const auto device = model.parameters().front().device();
    const auto all = torch::arange(data.numItems(), torch::TensorOptions().dtype(torch::kLong).device(device));
    const size_t first = history.size() > static_cast<size_t>(steps) ? history.size() - static_cast<size_t>(steps) : 0;
    UserPath path;
    for (size_t t = first; t < history.size(); ++t) {
        const std::vector<int32_t> prefix(history.begin(), history.begin() + static_cast<std::ptrdiff_t>(t + 1));
        const auto scores = model.scoreWithHistory(user, prefix, all, historyLength).to(torch::kCPU, torch::kDouble);
        const auto [top, which] = scores.topk(std::min<int64_t>(k, scores.size(0)));
        const auto weights = torch::softmax(top, 0);
        std::vector<std::pair<int32_t, double>> anchors;
        for (int64_t j = 0; j < top.size(0); ++j)
            anchors.emplace_back(static_cast<int32_t>(which[j].item<int64_t>()), weights[j].item<double>());
        path.items.push_back(history[t]);
        path.anchors.push_back(std::move(anchors));
    }
    return path;
}

const char* becauseMeasure(Recommender& model, const Dataset& data)
{
    if (predictsNextItems(model))
        return "score drop without the behaviour";
    if (dynamic_cast<GraphModelImpl*>(&model) && model.family() == ModelFamily::Sequential)
        return "attention weight";
    if (readsItemText(model))
        return "text cosine";
    const auto tables = embeddingTables(model, data.numUsers(), data.numItems(), false);
    return std::any_of(tables.begin(), tables.end(), [](const EmbeddingTable& t) { return t.kind == "items"; })
               ? "item-embedding cosine"
               : "co-rater cosine";
}

} // namespace reclab
