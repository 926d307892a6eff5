#include "text/ContentVectors.h"

#include <cmath>
#include <map>

namespace reclab {

namespace {

void normalise(float* v, size_t n)
{
    double sq = 0;
    for (size_t k = 0; k < n; ++k)
        sq += static_cast<double>(v[k]) * v[k];
    if (sq <= 0)
        return;
    const auto inv = static_cast<float>(1.0 / std::sqrt(sq));
    for (size_t k = 0; k < n; ++k)
        v[k] *= inv;
}

} // namespace

ContentVectors ContentVectors::tfidf(const ItemText& text)
{
    ContentVectors c;
    c.dim_ = static_cast<int64_t>(text.vocabulary.size());
    const double items = std::max(1, text.itemsWithText);
    c.start_.push_back(0);
    std::map<int32_t, int> tf;
    for (int32_t i = 0; i < text.numItems(); ++i) {
        tf.clear();
        for (uint32_t k = text.start[static_cast<size_t>(i)]; k < text.start[static_cast<size_t>(i) + 1]; ++k)
            ++tf[text.token[k]];
        const size_t first = c.value_.size();
        for (const auto& [w, n] : tf) {
            const double idf = std::log(items / text.itemsWithWord[static_cast<size_t>(w)]);
            c.index_.push_back(w);
            c.value_.push_back(static_cast<float>((1.0 + std::log(static_cast<double>(n))) * idf));
        }
        normalise(c.value_.data() + first, c.value_.size() - first);
        c.start_.push_back(c.value_.size());
    }
    return c;
}

ContentVectors ContentVectors::meanOfWords(const ItemText& text, const VocabularyVectors& vectors)
{
    ContentVectors c;
    c.dim_ = vectors.dim;
    const auto d = static_cast<size_t>(vectors.dim);
    c.start_.push_back(0);
    std::vector<float> mean(d);
    for (int32_t i = 0; i < text.numItems(); ++i) {
        const uint32_t from = text.start[static_cast<size_t>(i)], to = text.start[static_cast<size_t>(i) + 1];
        if (to > from) {
            std::fill(mean.begin(), mean.end(), 0.f);
            for (uint32_t k = from; k < to; ++k) {
                const float* row = vectors.rows.data() + static_cast<size_t>(text.token[k]) * d;
                for (size_t j = 0; j < d; ++j)
                    mean[j] += row[j];
            }
            normalise(mean.data(), d);
            for (size_t j = 0; j < d; ++j) {
                c.index_.push_back(static_cast<int32_t>(j));
                c.value_.push_back(mean[j]);
            }
        }
        c.start_.push_back(c.value_.size());
    }
    return c;
}

void ContentVectors::addTo(int32_t item, float weight, std::vector<float>& profile) const
{
    for (uint64_t k = start_[static_cast<size_t>(item)]; k < start_[static_cast<size_t>(item) + 1]; ++k)
        profile[static_cast<size_t>(index_[k])] += weight * value_[k];
}

float ContentVectors::dot(int32_t item, const std::vector<float>& profile) const
{
    double s = 0;
    for (uint64_t k = start_[static_cast<size_t>(item)]; k < start_[static_cast<size_t>(item) + 1]; ++k)
        s += static_cast<double>(value_[k]) * profile[static_cast<size_t>(index_[k])];
    return static_cast<float>(s);
}

std::vector<std::vector<float>> userProfiles(const ContentVectors& items, const InteractionTable& train, int32_t numUsers,
                                             float like)
{
    std::vector<std::vector<float>> profiles(static_cast<size_t>(numUsers), std::vector<float>(static_cast<size_t>(items.dim())));
    for (size_t r = 0; r < train.size(); ++r)
        if (train.rating[r] >= like)
            items.addTo(train.item[r], 1.f, profiles[static_cast<size_t>(train.user[r])]);
    for (auto& p : profiles)
        normalise(p.data(), p.size());
    return profiles;
}

} // namespace reclab
