// Word vectors: read from the files people already have (word2vec text and binary, GloVe .txt,
// fastText .vec), or trained on a dataset's own item text (WordTraining.h), then lined up with a
// dataset's vocabulary for a word-embedding block, the content model and the projector.
#pragma once

#include "text/ItemText.h"

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace reclab {

enum class VectorsFormat { Word2VecText, Word2VecBinary, GloVe };
const char* vectorsFormatName(VectorsFormat f); // "word2vec text", "word2vec binary", "GloVe text"

struct WordVectors {
    std::string source; // the file, or how they were trained
    int dim = 0;
    std::vector<std::string> words;
    std::vector<float> values; // words.size() x dim, row-major
    size_t skippedWords = 0;   // in the file but not wanted (not in the vocabulary)

    size_t size() const { return words.size(); }
    const float* row(size_t k) const { return values.data() + k * static_cast<size_t>(dim); }
    // The vector of word, or nullptr.
    const float* find(const std::string& word) const;
    void add(std::string word, const float* v);

private:
    std::unordered_map<std::string, int32_t> index_;
};

// Reads a vectors file, guessing its format from its first line and bytes: a "count dimension"
// header (word2vec, fastText .vec; binary when the rows are not text) or none (GloVe). Keeps only
// the words in `wanted` when it is given (a 5 GB file need not fit in memory). Throws DataError
// naming the line when the file is not a vectors file, when a row's dimension differs from the
// first row's, when a number does not parse, or when the file ends before the header's count.
WordVectors readWordVectors(const std::string& path, const std::unordered_set<std::string>* wanted = nullptr,
                            VectorsFormat* format = nullptr);
// Writes word2vec text ("count dim" header, then "word v1 ... vd" rows), whole or not at all.
void writeWordVectors(const WordVectors& v, const std::string& path);

// Vectors lined up with a vocabulary: row w is word w's vector. A word the vectors do not have
// gets a small random row (seeded) marked unknown: a word-embedding block trains those rows even
// when it keeps the known ones frozen.
struct VocabularyVectors {
    int dim = 0;
    std::vector<float> rows;  // vocabulary size x dim
    std::vector<char> known;  // per word
    size_t unknown = 0;
    std::string source;
};
VocabularyVectors alignVectors(const WordVectors& vectors, const Vocabulary& vocabulary, uint64_t seed);

// The words of vectors nearest to `word` by cosine (word itself left out), best first.
std::vector<std::pair<std::string, float>> nearestWords(const WordVectors& vectors, const std::string& word, int k);

} // namespace reclab
