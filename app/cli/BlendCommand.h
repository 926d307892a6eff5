// `reclab-cli blend`: two stored runs of one split (CF and content, say) blended into a run of
// its own, the weight chosen on their validation part.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace reclab::cli {

struct BlendCliOptions {
    std::string runs;    // "A,B"
    std::string weights; // "0,0.25,0.5"; empty: 0, 0.1, ..., 1
    std::string db, data;
    bool json = false;
};

void addBlendCommand(CLI::App& app, BlendCliOptions& options);
// Exit codes: 0 stored, 1 the database or a checkpoint cannot be read, 2 runs that cannot be blended.
int runBlend(const BlendCliOptions& options);

} // namespace reclab::cli
