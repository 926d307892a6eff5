// Content vectors: an item as its words (TF-IDF, or the mean of its words' vectors), a user as the
// mean of the items they liked, and the cosine between the two — the content-based
// recommender's whole model, needing no training beyond the word vectors, so it ranks items no
// one has rated yet.
#pragma once

#include "text/ItemText.h"
#include "text/WordVectors.h"

#include <cstdint>
#include <vector>

namespace reclab {

class ContentVectors {
public:
    // TF-IDF with a sublinear term frequency: (1 + ln tf) · ln(N / df), N the items with text;
    // each item's vector has length 1 (an item without words stays zero).
    static ContentVectors tfidf(const ItemText& text);
    // The mean of the item's word vectors (rows of vectors, aligned to text's vocabulary), length 1.
    static ContentVectors meanOfWords(const ItemText& text, const VocabularyVectors& vectors);

    int64_t dim() const { return dim_; }
    int32_t numItems() const { return static_cast<int32_t>(start_.size()) - 1; }
    bool hasWords(int32_t item) const { return start_[static_cast<size_t>(item) + 1] > start_[static_cast<size_t>(item)]; }
    // profile += weight · item's vector (profile has dim() entries).
    void addTo(int32_t item, float weight, std::vector<float>& profile) const;
    float dot(int32_t item, const std::vector<float>& profile) const;

private:
    int64_t dim_ = 0;
    // Item i's nonzeros: index_[start_[i] .. start_[i+1]) with value_ (dense vectors store all).
    std::vector<uint64_t> start_;
    std::vector<int32_t> index_;
    std::vector<float> value_;
};

// A user's profile: the mean of the vectors of the items they liked in `train` (rating >= like),
// scaled to length 1; all zeros when they liked none. Profiles for every user at once.
std::vector<std::vector<float>> userProfiles(const ContentVectors& items, const InteractionTable& train, int32_t numUsers,
                                             float like);

} // namespace reclab
