// `reclab-cli data text`: the vocabulary of a dataset's item text (what the Data tab's Text page
// shows). `reclab-cli data words`: word vectors for that vocabulary, trained on the item text
// by fastText or read from a vectors file, with the unknown words counted, the nearest words of
// one word listed and the vectors written out. `reclab-cli data cold`: the cold-start split's
// baselines (content, popularity among the cold items, random), a line per seed and scorer.
#include "DataCommand.h"
#include "CliErrors.h"
#include "OptionChecks.h"

#include "data/DatasetSource.h"
#include "data/ColdItemSplit.h"
#include "runs/Metrics.h"
#include "text/ColdScorers.h"
#include "text/ItemText.h"
#include "text/WordTraining.h"
#include "text/WordVectors.h"
#include "util/Error.h"
#include "util/TextFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

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

// --vectors train (fastText on the item text) or a vectors file, for text's vocabulary.
WordVectors vectorsFor(const ItemText& text, const DataOptions& o)
{
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
        return trainWordVectors(text, t);
    }
    const std::unordered_set<std::string> wanted(text.vocabulary.words().begin(), text.vocabulary.words().end());
    return readWordVectors(o.vectors, &wanted);
}

void addVectorOptions(CLI::App* cmd, DataOptions& o)
{
    cmd->add_option("--word-model", o.wordModel, "skipgram or cbow (with --vectors train)")
        ->capture_default_str()
        ->check(CLI::IsMember({"skipgram", "cbow"}));
    cmd->add_option("--word-dim", o.wordDim, "Dimensions (with --vectors train)")->capture_default_str()->check(CLI::Range(1, 1024));
    cmd->add_option("--word-epochs", o.wordEpochs,
                    "Passes over the item text (with --vectors train; 0: about 250,000 words in all, 5 to 500 passes)")
        ->capture_default_str()
        ->check(CLI::Range(0, 10000));
    cmd->add_option("--subwords", o.subwords, "Character n-gram lengths MIN-MAX, or off (with --vectors train)")->capture_default_str();
    cmd->add_option("--seed", o.seed, "Seed of training and of the unknown words' rows")->capture_default_str()->check(seedNumber());
}

// The comma-separated parts of an option's value.
std::vector<std::string> splitList(const std::string& text)
{
    std::vector<std::string_view> parts;
    splitFields(text, ",", parts);
    return {parts.begin(), parts.end()};
}

std::vector<uint64_t> seedList(const std::string& text)
{
    std::vector<uint64_t> seeds;
    for (const auto& part : splitList(text)) {
        size_t used = 0;
        try {
            seeds.push_back(std::stoull(part, &used));
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != part.size() || part[0] == '-')
            throw ConfigError("seeds", "expected seeds separated by commas, such as 1,2,3");
    }
    return seeds;
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
    addVectorOptions(words, o);

    auto* cold = data->add_subcommand(
        "cold", "Hold out a share of the items with their interactions and rank them by content, popularity and chance");
    addTextOptions(cold);
    cold->add_option("--share", o.share, "The share of the items held out")->capture_default_str()->check(CLI::Range(0.001, 0.9));
    cold->add_option("--seeds", o.seeds, "Seeds of the held-out items and the sampled negatives, e.g. 1,2,3")->capture_default_str();
    cold->add_option("--scorers", o.scorers, "content, content-vectors, popularity, random (comma-separated)")->capture_default_str();
    cold->add_option("--vectors", o.vectors, "Word vectors for content-vectors: 'train' or a vectors file");
    cold->add_option("--like", o.like, "Ratings at or above this go into a user's content profile")->capture_default_str();
    addVectorOptions(cold, o);
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
    const WordVectors vectors = vectorsFor(text, o);
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

namespace reclab::cli {

int runCold(const DataOptions& o)
{
    const Dataset ds = loadDataset(o.src.source, loadOptionsFrom(o.src));
    printSkipped(ds);
    const ItemText text = textOf(ds, o);
    std::vector<ColdScorer> scorers;
    for (const auto& name : splitList(o.scorers))
        scorers.push_back(parseColdScorer(name));
    const bool needVectors = std::find(scorers.begin(), scorers.end(), ColdScorer::ContentVectors) != scorers.end();
    if (needVectors && o.vectors.empty())
        throw ConfigError("vectors", "the content-vectors scorer needs --vectors train or a vectors file");
    std::unique_ptr<VocabularyVectors> vectors;
    if (needVectors)
        vectors = std::make_unique<VocabularyVectors>(alignVectors(vectorsFor(text, o), text.vocabulary, o.seed));
    nlohmann::json rows = nlohmann::json::array();
    for (const uint64_t seed : seedList(o.seeds)) {
        const ColdItemSplit split = makeColdItemSplit(ds, o.share, seed);
        for (const ColdScorer s : scorers) {
            const ColdRanks r = rankColdTargets(split, makeColdScorer(s, ds, split, &text, vectors.get(), o.like, seed));
            nlohmann::json row{{"scorer", coldScorerName(s)},
                               {"seed", seed},
                               {"cold_items", split.coldItems.size()},
                               {"test_users", split.testUser.size()},
                               {"hr10_full", hitRateAtK(r.full, 10)},
                               {"ndcg10_full", ndcgAtK(r.full, 10)},
                               {"hr10_s100", hitRateAtK(r.sampled, 10)},
                               {"ndcg10_s100", ndcgAtK(r.sampled, 10)}};
            if (o.json)
                std::cout << row.dump() << std::endl;
            else
                std::printf("seed %-4llu %-16s %zu cold items, %zu users: HR@10 %.4f NDCG@10 %.4f full; HR@10 %.4f NDCG@10 %.4f of 100\n",
                            static_cast<unsigned long long>(seed), coldScorerName(s), split.coldItems.size(), split.testUser.size(),
                            row["hr10_full"].get<double>(), row["ndcg10_full"].get<double>(), row["hr10_s100"].get<double>(),
                            row["ndcg10_s100"].get<double>());
        }
    }
    return 0;
}

} // namespace reclab::cli
