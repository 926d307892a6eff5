#include "inspection/TextExplain.h"

#include "compiled/GraphModule.h"
#include "graph/BlockDefinition.h"
#include "models/ContentModel.h"
#include "runs/TrainConfig.h"
#include "text/ContentVectors.h"
#include "text/ItemText.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace reclab {

namespace {

GraphModelImpl* textGraph(Recommender& model)
{
    auto* graph = dynamic_cast<GraphModelImpl*>(&model);
    return graph && (graph->analysis().textSources & ItemWordsSource) && graph->data().itemWords.defined() ? graph : nullptr;
}

} // namespace

bool readsItemText(Recommender& model)
{
    return dynamic_cast<ContentModelImpl*>(&model) || textGraph(model);
}

std::vector<std::vector<TextNeighbour>> textNeighbours(const Dataset& data, const std::vector<int32_t>& items,
                                                       const std::vector<int32_t>& liked, int k)
{
    std::vector<std::vector<TextNeighbour>> out(items.size());
    if (liked.empty() || k <= 0)
        return out;
    TextOptions o;
    o.fields = parseTextFields(TrainConfig{}.textFields); // the text models' default fields
    if (!(availableTextFields(data) & o.fields))
        return out;
    const ItemText text = buildItemText(data, o);
    const ContentVectors vectors = ContentVectors::tfidf(text);
    auto wordsOf = [&](int32_t item) {
        std::set<int32_t> w(text.token.begin() + text.start[size_t(item)], text.token.begin() + text.start[size_t(item) + 1]);
        return w;
    };
    std::vector<float> dense(static_cast<size_t>(vectors.dim()));
    for (size_t r = 0; r < items.size(); ++r) {
        std::fill(dense.begin(), dense.end(), 0.f);
        vectors.addTo(items[r], 1.f, dense);
        std::vector<TextNeighbour> near;
        for (const int32_t j : liked)
            near.push_back({j, vectors.dot(j, dense), {}});
        const size_t keep = std::min(near.size(), static_cast<size_t>(k));
        std::partial_sort(near.begin(), near.begin() + static_cast<std::ptrdiff_t>(keep), near.end(),
                          [](const TextNeighbour& a, const TextNeighbour& b) { return a.cosine > b.cosine; });
        near.resize(keep);
        const std::set<int32_t> mine = wordsOf(items[r]);
        for (auto& n : near) {
            std::vector<int32_t> shared;
            for (const int32_t w : wordsOf(n.item))
                if (mine.count(w))
                    shared.push_back(w);
            // Rarest first: the words that say most about the two items.
            std::sort(shared.begin(), shared.end(), [&](int32_t a, int32_t b) {
                return text.itemsWithWord[size_t(a)] != text.itemsWithWord[size_t(b)] ? text.itemsWithWord[size_t(a)] < text.itemsWithWord[size_t(b)] : a < b;
            });
            for (size_t w = 0; w < std::min<size_t>(shared.size(), 5); ++w)
                n.words.push_back(text.vocabulary.word(shared[w]));
        }
        out[r] = std::move(near);
    }
    return out;
}

const char* wordEffectMeasure(Recommender& model)
{
    return dynamic_cast<ContentModelImpl*>(&model) ? "share of the cosine" : "score drop without the word";
}

std::vector<WordEffect> wordEffects(Recommender& model, int32_t user, int32_t item)
{
    std::vector<WordEffect> out;
    torch::NoGradGuard noGrad;
    model.eval();
    if (auto* content = dynamic_cast<ContentModelImpl*>(&model)) {
        const auto* words = content->wordDimensions();
        if (!words)
            return out;
        const auto shares = (content->itemVectors()[item] * content->profiles()[user]).to(torch::kDouble);
        const auto nonzero = content->itemVectors()[item].nonzero().reshape({-1});
        for (int64_t k = 0; k < nonzero.size(0); ++k) {
            const int64_t w = nonzero[k].item<int64_t>();
            out.push_back({(*words)[static_cast<size_t>(w)], shares[w].item<double>()});
        }
    } else if (GraphModelImpl* graph = textGraph(model)) {
        const GraphData& d = graph->data();
        const auto device = d.itemWords.device();
        const auto u = torch::tensor({int64_t{user}}, torch::TensorOptions().dtype(torch::kLong).device(device));
        const auto i = torch::tensor({int64_t{item}}, torch::TensorOptions().dtype(torch::kLong).device(device));
        const double score = model.predict(u, i).item<double>();
        const torch::Tensor row = d.itemWords[item].clone().to(torch::kCPU);
        const auto ids = row.accessor<int64_t, 1>();
        std::vector<int64_t> kept(static_cast<size_t>(row.size(0)));
        std::set<int64_t> distinct;
        for (int64_t t = 0; t < row.size(0); ++t)
            if (ids[t] > 0)
                distinct.insert(ids[t]);
        for (const int64_t w : distinct) {
            // The item's words without w, the rest moved up and padded: its buffer row, for one pass.
            std::fill(kept.begin(), kept.end(), 0);
            size_t n = 0;
            for (int64_t t = 0; t < row.size(0); ++t)
                if (ids[t] > 0 && ids[t] != w)
                    kept[n++] = ids[t];
            d.itemWords[item].copy_(torch::tensor(kept, torch::kLong));
            out.push_back({d.vocabulary ? (*d.vocabulary)[static_cast<size_t>(w - 1)] : std::to_string(w - 1),
                           score - model.predict(u, i).item<double>()});
        }
        d.itemWords[item].copy_(row);
    }
    std::sort(out.begin(), out.end(), [](const WordEffect& a, const WordEffect& b) { return std::abs(a.effect) > std::abs(b.effect); });
    return out;
}

} // namespace reclab
