// Looking inside the models that read item text (the content model, the hybrid NeuMF, any graph
// with an item-text input): "because its text resembles ..." — the liked items nearest by the
// TF-IDF cosine of their words, with the words both have — and the words that moved one item's
// score most for one user.
#pragma once

#include "data/Dataset.h"
#include "models/Recommender.h"

#include <cstdint>
#include <string>
#include <vector>

namespace reclab {

// Whether the model scores items from their text (the content model, a graph reading item text).
bool readsItemText(Recommender& model);

struct TextNeighbour {
    int32_t item = 0;
    double cosine = 0;              // TF-IDF cosine of the two items' words
    std::vector<std::string> words; // the words both have, rarest first (at most 5)
};
// For each of `items`, the `k` items of `liked` whose text is nearest to its own.
std::vector<std::vector<TextNeighbour>> textNeighbours(const Dataset& data, const std::vector<int32_t>& items,
                                                       const std::vector<int32_t>& liked, int k);

// How each word of the item's text moved (user, item)'s score, largest effect first. Content
// model (TF-IDF): the word's share of the cosine, item weight × profile weight (the shares add
// up to the score). Graphs: occlusion — the score with the word left out of the item's words
// (the rest moved up, as if the title never had it) subtracted from the score. Empty for a
// model that reads no item text.
struct WordEffect {
    std::string word;
    double effect = 0;
};
std::vector<WordEffect> wordEffects(Recommender& model, int32_t user, int32_t item);
const char* wordEffectMeasure(Recommender& model); // "share of the cosine" or "score drop without the word"

} // namespace reclab
