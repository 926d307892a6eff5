// `reclab-cli words`: the word vectors a stored text run ended with (its word embedding, fine-tuned
// or frozen): a word's nearest words by cosine, or all of them written as a word2vec text file.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace reclab::cli {

struct WordsCliOptions {
    int64_t run = 0;
    std::string db, data, near, out;
    int k = 12;
    bool json = false;
};

void addWordsCommand(CLI::App& app, WordsCliOptions& options);
// Exit codes: 0 done, 1 the database or checkpoint cannot be read, 2 bad options or a run without words.
int runWords(const WordsCliOptions& options);

} // namespace reclab::cli
