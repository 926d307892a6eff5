// `reclab-cli attention`: a stored DIN run's attention over one user's latest behaviours for the
// candidate items given: raw activation weights, their shares and the top contributors.
#pragma once

#include "RecommendCommand.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace reclab::cli {

struct AttentionCliOptions : InspectionOptions {
    std::vector<std::string> items; // candidate item ids as the dataset writes them
    int top = 3;                    // contributors marked per candidate
};

void addAttentionCommand(CLI::App& app, AttentionCliOptions& options);
// Exit codes: 0 done, 1 the database or checkpoint cannot be read, 2 bad options, data, user,
// item, or a model without attention.
int runAttention(const AttentionCliOptions& options);

} // namespace reclab::cli
