#include "ExportCommand.h"
#include "Commands.h"
#include "CliErrors.h"
#include "OptionChecks.h"
#include "inspection/StoredRun.h"

#include "data/DatasetSource.h"
#include "inspection/EmbeddingExport.h"
#include "train/EmbeddingSnapshots.h"
#include "inspection/Projection.h"
#include "store/ExperimentStore.h"
#include "util/Error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>

namespace reclab::cli {

void addExportCommand(CLI::App& app, ExportOptions& o)
{
    auto* exportCmd = addCommand(app, "export");
    auto* embeddings = exportCmd->add_subcommand(
        "embeddings", "A run's user and item embeddings at an epoch, for TensorBoard's Embedding Projector");
    embeddings->add_option("--run", o.run, "Run id")->required()->check(wholeNumberIn(1, 9.2e18L));
    embeddings->add_option("--out", o.out, "Folder to write: one subfolder per table with vectors.tsv, metadata.tsv, "
                                           "and coordinates.csv")
        ->required();
    embeddings->add_option("--db", o.db, "Experiment database (default: " + defaultDatabasePath() + ")");
    embeddings->add_option("--epoch", o.epoch, "The epoch's snapshot (default: the latest)")->check(wholeNumberIn(1, 1e9L));
    embeddings->add_option("--table", o.table, "Only this table, e.g. user_gmf or items (default: all)");
    embeddings->add_option("--data", o.data, "The run's dataset, for titles and genres (default: where the run read it)");
    embeddings->add_option("--project", o.project, "2-D projection written as coordinates.csv: none, pca or tsne")
        ->check(CLI::IsMember({"none", "pca", "tsne"}))
        ->capture_default_str();
    embeddings->add_option("--perplexity", o.perplexity, "t-SNE perplexity")->check(numberIn(2.0, 100.0))->capture_default_str();
    embeddings->add_option("--iterations", o.iterations, "t-SNE iterations")->check(CLI::Range(1, 100000))->capture_default_str();
    embeddings->add_flag("--json", o.json, "Print what was written as JSON");
}

int runExport(const ExportOptions& o)
{
    const std::string dbPath = o.db.empty() ? defaultDatabasePath() : o.db;
    RunRecord run;
    std::vector<EmbeddingTable> tables;
    int epoch = o.epoch;
    std::string runDir;
    try {
        run = findStoredRun(dbPath, o.run);
        runDir = runArtifactDir(dbPath, run.id);
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
    try {
        const auto snapshots = listEmbeddingSnapshots(runDir);
        if (snapshots.empty())
            throw Error("run " + std::to_string(run.id) + " (" + run.model +
                        ") has no embedding snapshots: its model has no user or item embedding tables, or it stopped "
                        "before its first epoch ended");
        if (epoch == 0)
            epoch = snapshots.back().epoch;
        tables = readEmbeddingSnapshot(runDir, epoch);
        if (!o.table.empty()) {
            std::vector<EmbeddingTable> chosen;
            std::string names;
            for (auto& t : tables) {
                names += (names.empty() ? "" : ", ") + t.name;
                if (t.name == o.table)
                    chosen.push_back(std::move(t));
            }
            if (chosen.empty())
                throw Error("run " + std::to_string(run.id) + " has no table " + o.table + " (it has " + names + ")");
            tables = std::move(chosen);
        }
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
    // The run's own data, for titles and genres; other data would label the wrong rows.
    Dataset dataset;
    try {
        dataset = runDataset(run, o.data);
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
    nlohmann::json written = nlohmann::json::array();
    try {
        const EmbeddingMetadata users = userMetadata(dataset), items = itemMetadata(dataset);
        for (const auto& t : tables) {
            const std::string dir = (std::filesystem::path(o.out) / t.name).string();
            const EmbeddingMetadata& meta = t.kind == "users" ? users : items;
            writeProjectorFiles(dir, t.weights, meta);
            if (o.project == "pca")
                writeCoordinatesCsv(dir + "/coordinates.csv", pca(t.weights, 2).coordinates, meta);
            else if (o.project == "tsne")
                writeCoordinatesCsv(dir + "/coordinates.csv",
                                    tsne(t.weights, {o.perplexity, o.iterations}), meta);
            written.push_back({{"table", t.name}, {"kind", t.kind}, {"rows", t.weights.size(0)}, {"dim", t.weights.size(1)},
                               {"folder", dir}});
            if (!o.json)
                std::cout << t.name << " (" << t.kind << ", " << t.weights.size(0) << " x " << t.weights.size(1)
                          << ", epoch " << epoch << ") -> " << dir << "\n";
        }
    } catch (const std::exception& e) {
        std::cerr << "reclab-cli: " << e.what() << std::endl;
        return 1;
    }
    if (o.json)
        std::cout << nlohmann::json{{"run", run.id}, {"epoch", epoch}, {"tables", written}}.dump(2) << std::endl;
    return 0;
}

} // namespace reclab::cli
