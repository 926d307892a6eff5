// The word projector's map: a text run's word vectors and its items (each the mean of its words'
// vectors) in one 2-D PCA, words coloured by the genre they lean to (the genre whose items use
// the word most often, relative to the genre's size) and items by their first genre, so a class
// sees the words of a genre gather with its films.
#pragma once

#include "data/Dataset.h"
#include "text/WordVectors.h"

#include <string>
#include <vector>

namespace reclab {

class GraphModelImpl;

struct WordMap {
    std::vector<std::string> labels; // the words first, then the items' titles
    std::vector<int> category;       // index into categories, -1: none
    std::vector<std::string> categories;
    std::vector<float> xy;           // two coordinates per point
    size_t words = 0;                // points [0, words) are words, the rest items
    WordVectors vectors;             // every word of the run, for nearest words
    double explained = 0;            // the two components' share of the variance
};

// maxWords: the most frequent words of the items' text (all words without item text). Throws
// ConfigError when the graph has no word embedding.
WordMap wordMap(const GraphModelImpl& model, const Dataset& data, size_t maxWords = 400);

} // namespace reclab
