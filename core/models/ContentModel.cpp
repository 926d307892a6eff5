#include "models/ContentModel.h"

#include "compiled/GraphText.h"
#include "text/ContentVectors.h"
#include "text/ItemText.h"
#include "util/Error.h"

#include <torch/types.h>

#include <algorithm>
#include <limits>

namespace reclab {

namespace {

// Rows of a dense matrix: each entry's vector through ContentVectors::addTo.
torch::Tensor denseRows(int64_t rows, int64_t dim, const std::function<void(int64_t, std::vector<float>&)>& fill)
{
    auto out = torch::zeros({rows, dim});
    std::vector<float> v(static_cast<size_t>(dim));
    for (int64_t r = 0; r < rows; ++r) {
        std::fill(v.begin(), v.end(), 0.f);
        fill(r, v);
        std::copy(v.begin(), v.end(), out[r].data_ptr<float>());
    }
    return out;
}

} // namespace

ContentModelImpl::ContentModelImpl(const ModelShape& shape, const TrainConfig& c)
{
    if (!shape.dataset || !shape.train)
        throw ConfigError("model", "the content model needs the task's data and its training part");
    const Dataset& ds = *shape.dataset;
    TextOptions o;
    o.fields = parseTextFields(c.textFields) & ~fieldBit(TextField::Reviews);
    o.minCount = c.textMinCount;
    const ItemText text = buildItemText(ds, o);
    if (text.empty())
        throw ConfigError("text-min-count", ds.name + "'s text leaves no word seen " + std::to_string(o.minCount) +
                                                " times or more");
    note_ = std::to_string(text.vocabulary.size()) + " words from " + textFieldList(text.fields);
    std::optional<ContentVectors> vectors;
    words_ = text.vocabulary.words();
    tfidf_ = c.wordVectors.empty();
    if (tfidf_) {
        vectors = ContentVectors::tfidf(text);
        note_ += "; items as TF-IDF vectors";
    } else {
        vectors = ContentVectors::meanOfWords(text, runWordVectors(text, c, note_));
        note_ += "; items as the mean of their words' vectors";
    }
    const int64_t dim = vectors->dim();
    const double floats = static_cast<double>(dim) * static_cast<double>(shape.numItems + shape.numUsers);
    if (floats > 2.5e8)
        throw ConfigError("model", "content vectors of " + std::to_string(dim) + " dimensions for " +
                                       std::to_string(shape.numItems) + " items and " + std::to_string(shape.numUsers) +
                                       " users would take " + std::to_string(static_cast<int64_t>(floats * 4 / 1e9)) +
                                       " GB; give word vectors (--word-vectors train) or a larger --text-min-count");
    float like = static_cast<float>(c.positiveRating);
    const InteractionTable& train = *shape.train;
    if (std::none_of(train.rating.begin(), train.rating.end(), [like](float r) { return r >= like; }))
        like = -std::numeric_limits<float>::infinity(); // no rating reaches it: every interaction is liked
    const auto profiles = userProfiles(*vectors, train, static_cast<int32_t>(shape.numUsers), like);
    items_ = register_buffer("item_vectors", denseRows(shape.numItems, dim, [&](int64_t i, std::vector<float>& v) {
                                 vectors->addTo(static_cast<int32_t>(i), 1.f, v);
                             }));
    profiles_ = register_buffer("profiles", denseRows(shape.numUsers, dim, [&](int64_t u, std::vector<float>& v) {
                                    v = profiles[static_cast<size_t>(u)];
                                }));
}

torch::Tensor ContentModelImpl::calculateLoss(const Batch& batch)
{
    return torch::zeros({}, batch.labels.options());
}

torch::Tensor ContentModelImpl::predict(const torch::Tensor& users, const torch::Tensor& items)
{
    return (profiles_.index_select(0, users) * items_.index_select(0, items)).sum(1);
}

torch::Tensor ContentModelImpl::fullSortPredict(const torch::Tensor& users)
{
    return torch::matmul(profiles_.index_select(0, users), items_.t());
}

} // namespace reclab
