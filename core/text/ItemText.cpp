#include "text/ItemText.h"

#include "text/Tokenizer.h"
#include "util/Error.h"
#include "util/TextFile.h"
#include "util/Words.h"

#include <algorithm>
#include <unordered_set>

namespace reclab {

const char* textFieldName(TextField field)
{
    switch (field) {
    case TextField::Title: return "title";
    case TextField::Genres: return "genres";
    case TextField::Tags: return "tags";
    case TextField::Reviews: return "reviews";
    case TextField::Year: return "year";
    }
    return "title";
}

unsigned availableTextFields(const Dataset& ds)
{
    unsigned bits = 0;
    if (!ds.items.title.empty())
        bits |= fieldBit(TextField::Title);
    if (ds.items.hasGenres())
        bits |= fieldBit(TextField::Genres);
    if (!ds.items.tags.empty())
        bits |= fieldBit(TextField::Tags);
    if (!ds.reviews.empty())
        bits |= fieldBit(TextField::Reviews);
    if (std::any_of(ds.items.year.begin(), ds.items.year.end(), [](auto y) { return y > 0; }))
        bits |= fieldBit(TextField::Year);
    return bits;
}

std::string textFieldList(unsigned fields)
{
    std::vector<std::string> names;
    for (int f = 0; f < kTextFieldCount; ++f)
        if (fields & (1u << f))
            names.push_back(textFieldName(static_cast<TextField>(f)));
    return joinWith(names, ", ");
}

unsigned parseTextFields(const std::string& list)
{
    unsigned bits = 0;
    std::vector<std::string_view> names;
    splitFields(list, ",", names);
    for (const std::string_view name : names) {
        bool known = name == "all";
        if (known)
            bits = kAllTextFields;
        for (int f = 0; f < kTextFieldCount && !known; ++f)
            if (name == textFieldName(static_cast<TextField>(f))) {
                bits |= 1u << f;
                known = true;
            }
        if (!known)
            throw ConfigError("text fields", "'" + std::string(name) + "' is not one of title, genres, tags, reviews, year or all");
    }
    return bits;
}

void Vocabulary::build(std::vector<std::pair<std::string, int64_t>> wordCounts)
{
    std::sort(wordCounts.begin(), wordCounts.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    words_.clear();
    counts_.clear();
    index_.clear();
    index_.reserve(wordCounts.size());
    for (auto& [word, count] : wordCounts) {
        index_.emplace(word, static_cast<int32_t>(words_.size()));
        words_.push_back(std::move(word));
        counts_.push_back(count);
    }
}

int32_t Vocabulary::idOf(const std::string& word) const
{
    const auto it = index_.find(word);
    return it == index_.end() ? -1 : it->second;
}

std::vector<std::string> ItemText::wordsOf(int32_t item) const
{
    std::vector<std::string> out;
    for (uint32_t k = start[static_cast<size_t>(item)]; k < start[static_cast<size_t>(item) + 1]; ++k)
        out.push_back(vocabulary.word(token[k]));
    return out;
}

namespace {

// Every item's words before the vocabulary: flat, with the field and the item of each.
struct RawWords {
    std::vector<std::string> word;
    std::vector<TextField> field;
    std::vector<uint32_t> start;
};

RawWords collectWords(const Dataset& ds, unsigned fields, const TextOptions& o, ItemText& text)
{
    const auto n = static_cast<size_t>(ds.numItems());
    std::vector<std::vector<const std::string*>> reviewsOf;
    if (fields & fieldBit(TextField::Reviews)) {
        reviewsOf.resize(n);
        for (size_t r = 0; r < ds.reviews.size(); ++r)
            if (!o.reviewAllowed || o.reviewAllowed(ds.reviews.user[r], ds.reviews.item[r])) {
                reviewsOf[static_cast<size_t>(ds.reviews.item[r])].push_back(&ds.reviews.text[r]);
                ++text.reviewsUsed;
            }
    }
    RawWords raw;
    raw.start.reserve(n + 1);
    raw.start.push_back(0);
    std::vector<std::string> words;
    auto add = [&](TextField f) {
        for (auto& w : words) {
            ++text.wordsSeen;
            if (o.stopWords && f != TextField::Genres && f != TextField::Year && isStopWord(w)) {
                ++text.stopWordsDropped;
                continue;
            }
            raw.word.push_back(std::move(w));
            raw.field.push_back(f);
        }
        words.clear();
    };
    for (size_t i = 0; i < n; ++i) {
        if (fields & fieldBit(TextField::Title)) {
            tokenizeInto(titleWithoutYear(ds.items.title[i]), words);
            add(TextField::Title);
        }
        if ((fields & fieldBit(TextField::Year)) && i < ds.items.year.size() && ds.items.year[i] > 0) {
            words.push_back(std::to_string(ds.items.year[i]));
            add(TextField::Year);
        }
        if (fields & fieldBit(TextField::Genres)) {
            for (const auto& g : ds.genresOf(static_cast<int32_t>(i)))
                if (auto t = categoryToken(g); !t.empty())
                    words.push_back(std::move(t));
            add(TextField::Genres);
        }
        if (fields & fieldBit(TextField::Tags)) {
            tokenizeInto(ds.items.tags[i], words);
            add(TextField::Tags);
        }
        if (!reviewsOf.empty()) {
            for (const std::string* r : reviewsOf[i])
                tokenizeInto(*r, words);
            add(TextField::Reviews);
        }
        raw.start.push_back(static_cast<uint32_t>(raw.word.size()));
    }
    return raw;
}

} // namespace

ItemText buildItemText(const Dataset& ds, const TextOptions& o)
{
    if (o.minCount < 1)
        throw ConfigError("min count", "expected 1 or more occurrences");
    const unsigned have = availableTextFields(ds);
    const unsigned fields = o.fields & have;
    if (fields == 0)
        throw ConfigError("text fields", ds.name + " has no item text in the fields asked for (" + textFieldList(o.fields) +
                                             "); it has " + (have ? textFieldList(have) : std::string("no titles, genres, tags or reviews")));
    ItemText text;
    text.options = o;
    text.fields = fields;
    RawWords raw = collectWords(ds, fields, o, text);

    std::unordered_map<std::string, int64_t> counts;
    for (const auto& w : raw.word)
        ++counts[w];
    std::vector<std::pair<std::string, int64_t>> kept;
    for (auto& [w, c] : counts)
        if (c >= o.minCount)
            kept.emplace_back(w, c);
    text.vocabulary.build(std::move(kept));

    const auto n = static_cast<size_t>(ds.numItems());
    text.start.reserve(n + 1);
    text.start.push_back(0);
    text.itemsWithWord.assign(text.vocabulary.size(), 0);
    std::unordered_set<int32_t> distinct;
    for (size_t i = 0; i < n; ++i) {
        distinct.clear();
        for (uint32_t k = raw.start[i]; k < raw.start[i + 1]; ++k) {
            const int32_t id = text.vocabulary.idOf(raw.word[k]);
            if (id < 0) {
                ++text.rareDropped;
                continue;
            }
            text.token.push_back(id);
            text.field.push_back(raw.field[k]);
            if (distinct.insert(id).second)
                ++text.itemsWithWord[static_cast<size_t>(id)];
        }
        text.start.push_back(static_cast<uint32_t>(text.token.size()));
        text.itemsWithText += text.start.back() > text.start[i];
    }
    return text;
}

std::vector<std::vector<int32_t>> userReviewWords(const Dataset& ds, const ItemText& text, size_t maxWords)
{
    std::vector<std::vector<int32_t>> out(static_cast<size_t>(ds.numUsers()));
    const auto& allowed = text.options.reviewAllowed;
    std::vector<std::string> words;
    for (size_t r = 0; r < ds.reviews.size(); ++r) {
        auto& list = out[static_cast<size_t>(ds.reviews.user[r])];
        if (list.size() >= maxWords || (allowed && !allowed(ds.reviews.user[r], ds.reviews.item[r])))
            continue;
        words.clear();
        tokenizeInto(ds.reviews.text[r], words);
        for (const auto& w : words) {
            if (list.size() >= maxWords)
                break;
            if (text.options.stopWords && isStopWord(w))
                continue;
            if (const int32_t id = text.vocabulary.idOf(w); id >= 0)
                list.push_back(id);
        }
    }
    return out;
}

} // namespace reclab
