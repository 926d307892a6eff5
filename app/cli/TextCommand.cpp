// `reclab-cli data text`: the vocabulary of a dataset's item text (what the Data tab's Text page
// shows). `reclab-cli data words`: word vectors for that vocabulary, trained on the item text
// by fastText or read from a vectors file, with the unknown words counted, the nearest words of
// one word listed and the vectors written out.
#include "DataCommand.h"
#include "CliErrors.h"
#include "OptionChecks.h"

#include "data/DatasetSource.h"
#include "text/ItemText.h"
#include "text/WordTraining.h"
#include "text/WordVectors.h"
#include "util/Error.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>

namespace reclab::cli {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

ItemText textOf(const Dataset& ds, const DataOptions& o)
{
    TextOptions t;
    t.fields = parseTextFields(o.fields);
    t.minCount = o.minCount;
    t.stopWords = !o.keepStopWords;
    return buildItemText(ds, t);
}

int32_t itemOf(const Dataset& ds, const std::string& id)
{
    for (int32_t i = 0; i < ds.numItems(); ++i)
        if (ds.itemIds[static_cast<size_t>(i)] == id)
            return i;
    throw ConfigError("item", "no item with the id '" + id + "' in " + ds.name);
}

} // namespace

void addTextCommands(CLI::App* data, DataOptions& o)
{
    auto addTextOptions = [&o](CLI::App* cmd) {
        addSourceOptions(cmd, o.src);
        cmd->add_option("--fields", o.fields, "Item text to read: title, genres, tags, reviews (comma-separated) or all")
            ->capture_default_str();
        cmd->add_option("--min-count", o.minCount, "Words seen fewer times leave the vocabulary")
            ->capture_default_str()
            ->check(CLI::Range(1, 1000000));
        cmd->add_flag("--keep-stop-words", o.keepStopWords, "Keep 'the', 'of', 'and' ... in the vocabulary");
        cmd->add_flag("--json", o.json, "Print one JSON object");
    };
    auto* text = data->add_subcommand("text", "The vocabulary of a dataset's item text: size, most frequent words, an item's words");
    addTextOptions(text);
    text->add_option("--top", o.top, "How many of the most frequent words to list")->capture_default_str()->check(CLI::Range(0, 100000));
    text->add_option("--item", o.item, "Also list this item's words (its raw id)");

    auto* words = data->add_subcommand("words", "Word vectors for a dataset's vocabulary: trained on its item text or read from a file");
    addTextOptions(words);
    words->add_option("--vectors", o.vectors,
                      "'train' (fastText on the item text) or a vectors file: word2vec text or binary, GloVe .txt, fastText .vec")
        ->required();
    words->add_option("--near", o.near, "List the words nearest to this one (cosine)");
    words->add_option("-k", o.k, "How many nearest words")->capture_default_str()->check(CLI::Range(1, 1000));
    words->add_option("--out", o.out, "Write the vocabulary's vectors here (word2vec text)");
    words->add_option("--word-model", o.wordModel, "skipgram or cbow (with --vectors train)")
        ->capture_default_str()
        ->check(CLI::IsMember({"skipgram", "cbow"}));
    words->add_option("--word-dim", o.wordDim, "Dimensions (with --vectors train)")->capture_default_str()->check(CLI::Range(1, 1024));
    words->add_option("--word-epochs", o.wordEpochs,
                      "Passes over the item text (with --vectors train; 0: about 250,000 words in all, 5 to 500 passes)")
        ->capture_default_str()
        ->check(CLI::Range(0, 10000));
    words->add_option("--subwords", o.subwords, "Character n-gram lengths MIN-MAX, or off (with --vectors train)")
        ->capture_default_str();
    words->add_option("--seed", o.seed, "Seed of training and of the unknown words' rows")->capture_default_str()->check(seedNumber());
}

int runText(const DataOptions& o)
{
    const Dataset ds = loadDataset(o.src.source, loadOptionsFrom(o.src));
    printSkipped(ds);
    const auto started = Clock::now();
    const ItemText text = textOf(ds, o);
    const double seconds = secondsSince(started);
    const int32_t item = o.item.empty() ? -1 : itemOf(ds, o.item);
    const size_t top = std::min(text.vocabulary.size(), static_cast<size_t>(o.top));
    if (o.json) {
        nlohmann::json words = nlohmann::json::array();
        for (size_t w = 0; w < top; ++w)
            words.push_back({{"word", text.vocabulary.word(static_cast<int32_t>(w))},
                             {"count", text.vocabulary.count(static_cast<int32_t>(w))},
                             {"items", text.itemsWithWord[w]}});
        nlohmann::json j{{"dataset", ds.name},
                         {"fields", textFieldList(text.fields)},
                         {"vocabulary", text.vocabulary.size()},
                         {"min_count", text.options.minCount},
                         {"tokens", text.token.size()},
                         {"items_with_text", text.itemsWithText},
                         {"items", ds.numItems()},
                         {"stop_words_dropped", text.stopWordsDropped},
                         {"rare_dropped", text.rareDropped},
                         {"reviews", text.reviewsUsed},
                         {"seconds", seconds},
                         {"top", words}};
        if (item >= 0)
            j["item"] = {{"id", o.item}, {"words", text.wordsOf(item)}};
        std::cout << j.dump() << std::endl;
        return 0;
    }
    std::printf("%s: %zu words (seen at least %d times) from %s\n", ds.name.c_str(), text.vocabulary.size(), text.options.minCount,
                textFieldList(text.fields).c_str());
    std::printf("%zu words in %d of %d items; left out %zu stop words and %zu rare words (%.3f s)\n", text.token.size(),
                text.itemsWithText, ds.numItems(), text.stopWordsDropped, text.rareDropped, seconds);
    for (size_t w = 0; w < top; ++w)
        std::printf("%6zu  %-24s %8lld  %6d items\n", w + 1, text.vocabulary.word(static_cast<int32_t>(w)).c_str(),
                    static_cast<long long>(text.vocabulary.count(static_cast<int32_t>(w))), text.itemsWithWord[w]);
    if (item >= 0) {
        std::printf("item %s:", o.item.c_str());
        for (const auto& w : text.wordsOf(item))
            std::printf(" %s", w.c_str());
        std::printf("\n");
    }
    return 0;
}

int runWords(const DataOptions& o)
{
    const Dataset ds = loadDataset(o.src.source, loadOptionsFrom(o.src));
    printSkipped(ds);
    const ItemText text = textOf(ds, o);
    const auto started = Clock::now();
    WordVectors vectors;
    if (o.vectors == "train") {
        WordTraining t;
        t.skipGram = o.wordModel == "skipgram";
        t.dim = o.wordDim;
        t.epochs = o.wordEpochs;
        t.seed = o.seed;
        if (o.subwords == "off") {
            t.minn = t.maxn = 0;
        } else if (std::sscanf(o.subwords.c_str(), "%d-%d", &t.minn, &t.maxn) != 2) {
            throw ConfigError("subwords", "expected MIN-MAX such as 3-6, or off");
        }
        vectors = trainWordVectors(text, t);
    } else {
        const std::unordered_set<std::string> wanted(text.vocabulary.words().begin(), text.vocabulary.words().end());
        vectors = readWordVectors(o.vectors, &wanted);
    }
    const double seconds = secondsSince(started);
    const VocabularyVectors aligned = alignVectors(vectors, text.vocabulary, o.seed);
    if (!o.near.empty() && !vectors.find(o.near))
        throw ConfigError("near", "'" + o.near + "' has no vector (not in the vocabulary of " + ds.name + " or not in the file)");
    const auto near = o.near.empty() ? std::vector<std::pair<std::string, float>>{} : nearestWords(vectors, o.near, o.k);
    if (!o.out.empty()) {
        WordVectors out;
        out.dim = aligned.dim;
        for (size_t w = 0; w < text.vocabulary.size(); ++w)
            out.add(text.vocabulary.word(static_cast<int32_t>(w)), aligned.rows.data() + w * static_cast<size_t>(aligned.dim));
        writeWordVectors(out, o.out);
    }
    if (o.json) {
        nlohmann::json j{{"dataset", ds.name},      {"source", vectors.source},   {"dim", vectors.dim},
                         {"vocabulary", text.vocabulary.size()}, {"unknown", aligned.unknown}, {"seconds", seconds}};
        nlohmann::json list = nlohmann::json::array();
        for (const auto& [w, c] : near)
            list.push_back({{"word", w}, {"cosine", c}});
        if (!o.near.empty())
            j["near"] = {{"word", o.near}, {"nearest", list}};
        std::cout << j.dump() << std::endl;
        return 0;
    }
    std::printf("%s: %d-dimensional vectors for %zu words, %zu not in the vectors (random rows, trained with the model) (%.3f s)\n",
                vectors.source.c_str(), vectors.dim, text.vocabulary.size(), aligned.unknown, seconds);
    if (!o.near.empty()) {
        std::printf("nearest to %s:\n", o.near.c_str());
        for (const auto& [w, c] : near)
            std::printf("  %-24s %.3f\n", w.c_str(), static_cast<double>(c));
    }
    return 0;
}

} // namespace reclab::cli
