// `reclab-cli recommend`: a stored run's top-K for one user, seen items left out, each with the
// liked items it is most like.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace reclab::cli {

struct RecommendCliOptions {
    int64_t run = 0;
    std::string user; // the user's id as the dataset writes it
    int k = 10;
    std::string db, data;
    bool json = false;
};

void addRecommendCommand(CLI::App& app, RecommendCliOptions& options);
// Exit codes: 0 done, 1 the database or checkpoint cannot be read, 2 bad options, data or user.
int runRecommend(const RecommendCliOptions& options);

} // namespace reclab::cli
