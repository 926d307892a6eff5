// `reclab-cli recommend`: a stored run's top-K for one user, seen items left out, each with the
// liked items it is most like.
#pragma once

#include "inspection/StoredRun.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace reclab::cli {

// The options every inspecting command takes: --run, --user, --db, --data, --json.
struct InspectionOptions {
    int64_t run = 0;
    std::string user; // the user's id as the dataset writes it
    std::string db, data;
    bool json = false;
};

struct RecommendCliOptions : InspectionOptions {
    int k = 10;
    bool words = false;
};

void addRecommendCommand(CLI::App& app, RecommendCliOptions& options);
// Exit codes: 0 done, 1 the database or checkpoint cannot be read, 2 bad options, data or user.
int runRecommend(const RecommendCliOptions& options);

void addInspectionOptions(CLI::App* cmd, InspectionOptions& options);
// Shared by the inspecting commands: loads the run's model and finds the user, printing one
// line to stderr on failure; returns the exit code (0 when loaded).
struct Inspected {
    StoredModel stored;
    int32_t user = -1; // the user's index in stored.data
};
int loadForInspection(const InspectionOptions& options, Inspected& out);

} // namespace reclab::cli
