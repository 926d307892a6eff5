#include "inspection/WordMap.h"

#include "compiled/GraphModule.h"
#include "compiled/GraphText.h"
#include "inspection/Projection.h"

#include <algorithm>
#include <numeric>

namespace reclab {

WordMap wordMap(const GraphModelImpl& model, const Dataset& data, size_t maxWords)
{
    WordMap map;
    map.vectors = graphWordVectors(model);
    const GraphData& d = model.data();
    const size_t W = map.vectors.size();
    const auto genres = static_cast<int>(data.genreNames.size());
    map.categories = data.genreNames;
    const int64_t numItems = std::min<int64_t>(d.itemWords.defined() ? d.itemWords.size(0) : 0, data.numItems());
    // Word counts per genre over the items' own words (row w + 1 of item_words is word w).
    std::vector<int64_t> uses(W, 0);
    std::vector<double> byGenre(W * static_cast<size_t>(std::max(genres, 1)), 0.0);
    std::vector<double> genreSize(static_cast<size_t>(std::max(genres, 1)), 0.0);
    torch::Tensor ids = numItems > 0 ? d.itemWords.narrow(0, 0, numItems).to(torch::kCPU).contiguous() : torch::Tensor();
    for (int64_t i = 0; i < numItems; ++i) {
        const auto itemGenres = genres > 0 ? data.items.genreList.begin() + data.items.genreStart[size_t(i)] : data.items.genreList.end();
        const auto itemGenresEnd = genres > 0 ? data.items.genreList.begin() + data.items.genreStart[size_t(i) + 1] : data.items.genreList.end();
        for (auto g = itemGenres; g != itemGenresEnd; ++g)
            genreSize[size_t(*g)] += 1;
        const int64_t* row = ids[i].data_ptr<int64_t>();
        for (int64_t t = 0; t < ids.size(1); ++t)
            if (const int64_t w = row[t] - 1; w >= 0 && static_cast<size_t>(w) < W) {
                ++uses[size_t(w)];
                for (auto g = itemGenres; g != itemGenresEnd; ++g)
                    byGenre[size_t(w) * size_t(genres) + size_t(*g)] += 1;
            }
    }
    std::vector<size_t> order(W);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return uses[a] > uses[b]; });
    order.resize(std::min(order.size(), maxWords));
    if (numItems > 0)
        order.erase(std::remove_if(order.begin(), order.end(), [&](size_t w) { return uses[w] == 0; }), order.end());

    const int64_t dim = map.vectors.dim;
    const int64_t points = static_cast<int64_t>(order.size()) + numItems;
    torch::Tensor all = torch::from_blob(const_cast<float*>(map.vectors.values.data()), {int64_t(W), dim}, torch::kFloat);
    torch::Tensor x = torch::zeros({points, dim});
    for (size_t k = 0; k < order.size(); ++k) {
        x[int64_t(k)].copy_(all[int64_t(order[k])]);
        map.labels.push_back(map.vectors.words[order[k]]);
        int best = -1;
        double bestLift = 0;
        for (int g = 0; g < genres; ++g)
            if (genreSize[size_t(g)] > 0) {
                const double lift = byGenre[order[k] * size_t(genres) + size_t(g)] / genreSize[size_t(g)];
                if (lift > bestLift) {
                    bestLift = lift;
                    best = g;
                }
            }
        map.category.push_back(best);
    }
    map.words = order.size();
    if (numItems > 0) {
        // An item: the mean of its words' vectors (padding rows left out).
        const torch::Tensor mask = ids.gt(0).to(torch::kFloat);
        const torch::Tensor rows = torch::cat({torch::zeros({1, dim}), all}, 0);
        const torch::Tensor sums = (rows.index_select(0, ids.flatten()).view({numItems, ids.size(1), dim}) *
                                    mask.unsqueeze(2)).sum(1);
        x.narrow(0, int64_t(order.size()), numItems).copy_(sums / mask.sum(1, true).clamp_min(1.0));
        for (int64_t i = 0; i < numItems; ++i) {
            map.labels.push_back(data.items.title.empty() ? data.itemIds[size_t(i)] : data.items.title[size_t(i)]);
            map.category.push_back(genres > 0 && data.items.genreStart[size_t(i)] < data.items.genreStart[size_t(i) + 1]
                                       ? data.items.genreList[data.items.genreStart[size_t(i)]]
                                       : -1);
        }
    }
    if (points >= 2) {
        const PcaResult p = pca(x, 2);
        map.explained = p.explainedRatio.size() == 2 ? p.explainedRatio[0] + p.explainedRatio[1] : 0;
        const torch::Tensor c = p.coordinates.to(torch::kFloat).contiguous();
        map.xy.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    }
    return map;
}

} // namespace reclab
