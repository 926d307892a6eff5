// `reclab-cli graph check|template|export`: the analysis of a model graph file (shapes,
// parameter counts, problems), the shipped templates as starting points, and a trained graph
// run exported as a TorchScript module.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace reclab::cli {

struct GraphOptions {
    std::string file;
    std::string data = "sample";
    bool json = false;
    std::string name; // template
    std::string out;
    int64_t run = 0;  // export
    std::string db;
};

void addGraphCommand(CLI::App& app, GraphOptions& options);
// check and template. Exit codes: 0 valid / done, 1 the graph has problems (or the export
// failed), 2 bad options or an unreadable file.
int runGraph(CLI::App& graphCommand, const GraphOptions& options);
// `graph export`, which needs LibTorch (reclab-train); the front end execs it.
int runGraphExport(const GraphOptions& options);

} // namespace reclab::cli
