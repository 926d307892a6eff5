// `reclab-cli data stats|prepare|download|text|words|cold`: load any supported dataset and print its
// figures, prepare a filtered split for fair comparisons, fetch the public MovieLens archives,
// show the vocabulary of its item text, train or load word vectors for it, and rank held-out
// cold items by content, popularity and chance.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace reclab {
struct Dataset;
struct LoadOptions;
} // namespace reclab

namespace reclab::cli {

// How to read a source; the same options for every data subcommand.
struct SourceOptions {
    std::string source;
    std::string format = "auto";
    std::string columns; // user,item,rating,timestamp in file order; "-" ignores a column
    std::string sep;     // ",", "tab", "::", ";", "|", "space"; empty: detect
    bool header = false, noHeader = false;
    bool skipBadRows = false;
    int threads = 0;
    std::string meta;
    std::string ids = "auto"; // auto, numeric or text
};

struct DataOptions {
    SourceOptions src;
    bool json = false;
    // prepare
    double threshold = -1;
    int kcore = 0, userCore = 0, itemCore = 0;
    bool dedup = false;
    std::string from, to;
    std::string split = "loo";
    uint64_t seed = 42;
    int negatives = -1;
    std::string out;
    // download
    std::string name, toDir, url, md5;
    bool force = false, keepArchive = false, list = false;
    // text and words
    std::string fields = "all";
    int minCount = 2;
    bool keepStopWords = false;
    int top = 20;
    std::string item;
    std::string vectors; // a vectors file, or "train"
    std::string near;
    int k = 10;
    int wordDim = 64, wordEpochs = 0;
    std::string wordModel = "skipgram";
    std::string subwords = "3-6";
    // cold
    double share = 0.1;
    std::string seeds = "1,2,3";
    std::string scorers = "content,popularity,random";
    float like = 4;
};

void addDataCommand(CLI::App& app, DataOptions& options);
// Exit codes: 0 done, 1 failed (network, disk), 2 bad options or data, 130 cancelled.
int runData(CLI::App& dataCommand, const DataOptions& options);

// Shared by the data subcommands: the source options, and the load report on stderr.
void addSourceOptions(CLI::App* command, SourceOptions& options);
LoadOptions loadOptionsFrom(const SourceOptions& options);
void printSkipped(const Dataset& dataset);

// TextCommand.cpp: the `text` and `words` subcommands.
void addTextCommands(CLI::App* data, DataOptions& options);
int runText(const DataOptions& options);
int runWords(const DataOptions& options);
int runCold(const DataOptions& options);

} // namespace reclab::cli
