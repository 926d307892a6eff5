// `reclab-cli recommend`: a stored run's top-K for one user, seen items left out, each with the
// liked items it is most like.
#pragma once

#include "inspection/StoredRun.h"

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

// The options every inspecting command takes: --run, --user, --db, --data, --json.
void addInspectionOptions(CLI::App* cmd, int64_t& run, std::string& user, std::string& db, std::string& data, bool& json);
// Shared by the inspecting commands: loads the run's model and finds the user, printing one
// line to stderr on failure; returns the exit code (0 when loaded).
int loadForInspection(const std::string& db, int64_t runId, const std::string& dataOverride, const std::string& userId,
                      StoredModel& stored, int32_t& user);

} // namespace reclab::cli
