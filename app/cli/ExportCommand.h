// `reclab-cli export embeddings`: a run's embedding tables at an epoch, for TensorBoard's
// Embedding Projector (vectors.tsv, metadata.tsv) with their 2-D projection as CSV.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace reclab::cli {

struct ExportOptions {
    int64_t run = 0;
    std::string db, out, data, table;
    int epoch = 0;                 // 0: the latest snapshot
    std::string project = "pca";   // none, pca or tsne
    double perplexity = 30;
    int iterations = 1000;
    bool json = false;
};

void addExportCommand(CLI::App& app, ExportOptions& options);
// Exit codes: 0 written, 1 cannot read or write, 2 bad options or a run without what is asked.
int runExport(const ExportOptions& options);

} // namespace reclab::cli
