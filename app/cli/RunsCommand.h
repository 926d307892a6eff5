// `reclab-cli runs list|show|export|compare`: the experiment database from the command line.
// No LibTorch: these start at once, and read the very records the GUI shows.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace reclab::cli {

struct RunsOptions {
    std::string db; // empty: the default database
    bool json = false;
    // list
    std::string search, model, dataset, experiment, tag, status;
    std::vector<std::string> params; // key<op>value conditions
    int limit = 0;
    // show, export, compare
    std::vector<int64_t> ids;
    std::string format; // export: csv or json; compare: table, csv or markdown
    std::string out;    // export/compare: a file instead of stdout
    bool paramsTable = false, differencesOnly = false;
};

void addRunsCommand(CLI::App& app, RunsOptions& options);
// Exit codes: 0 done, 1 the database cannot be read or a run does not exist, 2 bad options.
int runRuns(CLI::App& runsCommand, const RunsOptions& options);

} // namespace reclab::cli
