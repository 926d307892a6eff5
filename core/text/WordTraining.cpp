#include "text/WordTraining.h"

#include "util/Error.h"
#include "util/Files.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#ifdef RECLAB_HAVE_FASTTEXT
#include <fasttext/fasttext.h>
#endif

namespace reclab {

std::string WordTraining::describe() const
{
    return std::string(skipGram ? "skip-gram" : "CBOW") + ", " + std::to_string(dim) + " dimensions, " +
           (epochs > 0 ? std::to_string(epochs) + " epochs" : std::string("passes for ~250,000 words")) + ", window " + std::to_string(window) + ", " + std::to_string(negatives) + " negatives, " +
           (maxn > 0 ? "subwords " + std::to_string(minn) + "-" + std::to_string(maxn) : std::string("no subwords")) + ", seed " +
           std::to_string(seed);
}

int WordTraining::epochsFor(size_t corpusWords) const
{
    if (epochs > 0)
        return epochs;
    const double passes = 2.5e5 / static_cast<double>(std::max<size_t>(corpusWords, 1));
    return static_cast<int>(std::clamp(std::round(passes), 5.0, 500.0));
}

bool canTrainWordVectors()
{
#ifdef RECLAB_HAVE_FASTTEXT
    return true;
#else
    return false;
#endif
}

namespace {

// A temporary corpus file, removed when this goes away.
struct CorpusFile {
    std::string path;
    explicit CorpusFile(const ItemText& text)
    {
        std::string name = (std::filesystem::temp_directory_path() / "reclab-words-XXXXXX").string();
        const int fd = ::mkstemp(name.data());
        if (fd < 0)
            throw IoError("cannot make a temporary file in " + std::filesystem::temp_directory_path().string());
        ::close(fd);
        path = name;
        std::string corpus;
        for (int32_t i = 0; i < text.numItems(); ++i) {
            if (text.tokenCount(i) == 0)
                continue;
            for (uint32_t k = text.start[static_cast<size_t>(i)]; k < text.start[static_cast<size_t>(i) + 1]; ++k)
                corpus += text.vocabulary.word(text.token[k]) + ' ';
            corpus.back() = '\n';
        }
        writeFileWhole(path, corpus);
    }
    ~CorpusFile() { std::remove(path.c_str()); }
};

void checkOptions(const WordTraining& o)
{
    if (o.dim < 1 || o.dim > 1024)
        throw ConfigError("word-dim", "expected 1 to 1024 dimensions");
    if (o.epochs < 0 || o.epochs > 10000)
        throw ConfigError("word-epochs", "expected 1 to 10000 epochs, or 0 for as many as the text's size needs");
    if (o.window < 1 || o.negatives < 1 || o.threads < 1)
        throw ConfigError("word vectors", "the window, the negatives and the threads must each be 1 or more");
    if (o.minn < 0 || o.maxn < o.minn || (o.maxn > 0 && o.minn == 0))
        throw ConfigError("subwords", "expected 1 <= minn <= maxn, or both 0 for no subwords");
    if (!(o.subsample >= 0) || o.subsample > 1)
        throw ConfigError("subsample", "expected a threshold in [0, 1] (0: off)");
    if (!(o.learningRate > 0) || o.learningRate > 1)
        throw ConfigError("word learning rate", "expected a learning rate in (0, 1]");
}

} // namespace

WordVectors trainWordVectors(const ItemText& text, const WordTraining& o, const std::function<bool(double, double)>& progress)
{
    checkOptions(o);
#ifndef RECLAB_HAVE_FASTTEXT
    (void)text;
    (void)progress;
    throw ConfigError("word-vectors", "this build has no fastText library (install libfasttext-dev and rebuild), so it cannot "
                                      "train word vectors; load pre-trained ones with --vectors FILE");
#else
    if (text.empty())
        throw ConfigError("word-vectors", "the item text has no words to train on");
    CorpusFile corpus(text);
    WordTraining chosen = o;
    chosen.epochs = o.epochsFor(text.token.size());
    fasttext::Args args;
    args.input = corpus.path;
    args.model = o.skipGram ? fasttext::model_name::sg : fasttext::model_name::cbow;
    args.loss = fasttext::loss_name::ns;
    args.dim = o.dim;
    args.epoch = chosen.epochs;
    args.ws = o.window;
    args.neg = o.negatives;
    args.minn = o.minn;
    args.maxn = o.maxn;
    args.lr = o.learningRate;
    args.seed = static_cast<int>(o.seed % 2147483647u);
    args.thread = o.threads;
    args.minCount = 1; // the vocabulary's own minimum count already applied
    args.bucket = o.maxn > 0 ? 200000 : 0; // fastText's 2M buckets would take 0.5 GB at 64 dimensions
    args.t = o.subsample > 0 ? o.subsample : 1.0; // t = 1: no word is ever skipped
    args.verbose = 0;
    fasttext::FastText ft;
    std::atomic<bool> stopped{false};
    try {
        ft.train(args, [&](float done, float loss, double, double, int64_t) {
            if (progress && !stopped && !progress(static_cast<double>(done), static_cast<double>(loss))) {
                stopped = true;
                ft.abort();
            }
        });
    } catch (const fasttext::FastText::AbortError&) {
        throw CancelledError("word vector training stopped");
    } catch (const std::invalid_argument& e) {
        throw ConfigError("word-vectors", std::string("fastText refused the corpus: ") + e.what());
    }
    if (stopped)
        throw CancelledError("word vector training stopped");
    WordVectors out;
    out.dim = ft.getDimension();
    out.source = "trained on the item text (" + textFieldList(text.fields) + "): " + chosen.describe();
    fasttext::Vector v(out.dim);
    for (const auto& word : text.vocabulary.words()) {
        ft.getWordVector(v, word);
        out.add(word, v.data());
    }
    return out;
#endif
}

} // namespace reclab
