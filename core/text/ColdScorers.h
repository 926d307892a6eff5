// The scorers the cold-start protocol (data/ColdItemSplit.h) sets side by side before any model
// trains: content (TF-IDF of the item's words, or the mean of its word vectors, against the
// user's liked items), popularity among the cold items (from the other users' held-out choices:
// a baseline that peeks, as no model can), and random.
#pragma once

#include "data/ColdItemSplit.h"
#include "text/ItemText.h"
#include "text/WordVectors.h"

#include <string>

namespace reclab {

enum class ColdScorer { Content, ContentVectors, Popularity, Random };
const char* coldScorerName(ColdScorer s); // "content", "content-vectors", "popularity", "random"
ColdScorer parseColdScorer(const std::string& name); // ConfigError naming the choices

// like: the rating at or above which a training interaction goes into the user's profile.
// vectors: the word vectors for ContentVectors (aligned to text's vocabulary).
ItemScorer makeColdScorer(ColdScorer kind, const Dataset& dataset, const ColdItemSplit& split, const ItemText* text,
                          const VocabularyVectors* vectors, float like, uint64_t seed);

} // namespace reclab
