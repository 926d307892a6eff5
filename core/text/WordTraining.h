// Word vectors trained on a dataset's own item text by the fastText library (skip-gram or CBOW
// with negative sampling, plus subword n-grams, so a rare title word still gets a vector built
// from its pieces). Built only where libfasttext is found (RECLAB_HAVE_FASTTEXT).
#pragma once

#include "text/WordVectors.h"

#include <functional>
#include <string>

namespace reclab {

struct WordTraining {
    bool skipGram = true; // else CBOW
    int dim = 64;
    // Passes over the text; 0: enough for about 250,000 words in all (5 to 500 passes), as item
    // text is often short (ml-100k's titles and genres: ~4,800 words, 52 passes).
    int epochs = 0;
    int window = 5;
    int negatives = 5;
    int minn = 3, maxn = 6; // subword lengths; 0 and 0 turn subwords off
    double learningRate = 0.05;
    // Frequent words are skipped with probability 1 - sqrt(t/f) - t/f (word2vec's subsampling)
    // when this threshold t is above 0. Off by default: in short item text the frequent words
    // are the genres, the very words that tie titles together.
    double subsample = 0;
    uint64_t seed = 1;
    int threads = 1; // 1: the same vectors for the same seed
    std::string describe() const; // "skip-gram, 64 dimensions, 52 epochs, ..."
    int epochsFor(size_t corpusWords) const;
};

// Whether this build can train word vectors (fastText was found).
bool canTrainWordVectors();

// Trains on one line per item (its words in field order) and returns a vector for every
// vocabulary word. progress(share done, loss) is called from the training thread; returning
// false stops training (CancelledError). ConfigError when fastText is not in this build.
WordVectors trainWordVectors(const ItemText& text, const WordTraining& options,
                             const std::function<bool(double, double)>& progress = {});

} // namespace reclab
