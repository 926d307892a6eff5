// The words of each item, as a dataset's text fields give them (titles without their year,
// genres or categories, user tags, review text), mapped to a vocabulary built for that dataset:
// what text blocks, word vectors and content models read.
#pragma once

#include "data/Dataset.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace reclab {

// Year: the item's year as one token ("1997"), the only number a title loses with its year.
enum class TextField : uint8_t { Title, Genres, Tags, Reviews, Year };
constexpr int kTextFieldCount = 5;
const char* textFieldName(TextField field); // "title", "genres", "tags", "reviews", "year"
constexpr unsigned fieldBit(TextField f) { return 1u << static_cast<unsigned>(f); }
constexpr unsigned kAllTextFields = (1u << kTextFieldCount) - 1;
// The fields this dataset has text for (bits of fieldBit).
unsigned availableTextFields(const Dataset& dataset);
// "title, genres" for a set of bits.
std::string textFieldList(unsigned fields);
// Bits from "title,genres,tags,reviews" or "all"; throws ConfigError naming the field it does not know.
unsigned parseTextFields(const std::string& list);

struct TextOptions {
    unsigned fields = kAllTextFields; // used where the dataset has them
    int minCount = 2;                 // words seen fewer times leave the vocabulary
    bool stopWords = true;            // drop words on the stop-word list
    // Reviews of the pairs this returns false for stay out (e.g. those outside the training
    // part, so a test interaction's review cannot describe its item); empty: every review.
    std::function<bool(int32_t user, int32_t item)> reviewAllowed;
};

class Vocabulary {
public:
    // Word ids from 0, most frequent first (ties alphabetical), so the order is reproducible.
    void build(std::vector<std::pair<std::string, int64_t>> wordCounts);
    int32_t idOf(const std::string& word) const; // -1 when not in the vocabulary
    size_t size() const { return words_.size(); }
    bool empty() const { return words_.empty(); }
    const std::string& word(int32_t id) const { return words_[static_cast<size_t>(id)]; }
    int64_t count(int32_t id) const { return counts_[static_cast<size_t>(id)]; }
    const std::vector<std::string>& words() const { return words_; }

private:
    std::vector<std::string> words_;
    std::vector<int64_t> counts_;
    std::unordered_map<std::string, int32_t> index_;
};

struct ItemText {
    Vocabulary vocabulary;
    TextOptions options;
    unsigned fields = 0;         // fields that had text
    // Tokens of item i: token[start[i] .. start[i+1]), word ids in field order (title, genres,
    // tags, reviews), each with the field it came from.
    std::vector<uint32_t> start;
    std::vector<int32_t> token;
    std::vector<TextField> field;
    std::vector<int32_t> itemsWithWord; // per word id: the number of items whose text has it
    int32_t itemsWithText = 0;
    size_t wordsSeen = 0;        // tokens before the stop-word list and the minimum count
    size_t stopWordsDropped = 0; // tokens dropped as stop words
    size_t rareDropped = 0;      // tokens dropped by the minimum count
    size_t reviewsUsed = 0;

    int32_t numItems() const { return start.empty() ? 0 : static_cast<int32_t>(start.size() - 1); }
    size_t tokenCount(int32_t item) const { return start[static_cast<size_t>(item) + 1] - start[static_cast<size_t>(item)]; }
    std::vector<std::string> wordsOf(int32_t item) const;
    bool empty() const { return vocabulary.empty(); }
};

// Tokenizes every item's text. Throws ConfigError when the dataset has none of the fields asked
// for, naming what is missing.
ItemText buildItemText(const Dataset& dataset, const TextOptions& options = {});

// The words of the reviews each user wrote (those text.options.reviewAllowed keeps), as ids of
// text's vocabulary in file order, at most maxWords per user; stop words (when the options drop
// them) and words outside the vocabulary left out. One list per user.
std::vector<std::vector<int32_t>> userReviewWords(const Dataset& dataset, const ItemText& text, size_t maxWords);

} // namespace reclab
