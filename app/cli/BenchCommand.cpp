#include "BenchCommand.h"

#include "data/DatasetSource.h"
#include "models/ModelRegistry.h"
#include "train/AccuracyBench.h"
#include "util/Error.h"

#include <nlohmann/json.hpp>

#include <torch/utils.h>

#include <fstream>
#include <iostream>

#include <unistd.h>

namespace reclab::cli {

void addBenchCommand(CLI::App& app, BenchCliOptions& o)
{
    auto* bench = app.add_subcommand("bench", "Benchmarks that compare models");
    bench->require_subcommand(1);
    auto* accuracy = bench->add_subcommand(
        "accuracy", "Train every model with several seeds on one dataset; print mean ± std of each metric");
    accuracy->add_option("--data", o.data, "Dataset folder or file (e.g. ../shared/datasets/ml-100k)")->required();
    accuracy->add_option("--seeds", o.seeds, "Seeds per model (42, 43, ...)")->capture_default_str()->check(CLI::Range(1, 100));
    accuracy->add_option("--models", o.models, "Models to run (default: all: " + modelNames(", ") + ")")->delimiter(',');
    accuracy->add_option("--epochs", o.epochs, "Epochs for every trainable model (default: each model's own)")
        ->check(CLI::Range(1, 100000));
    accuracy->add_option("--protocol", o.protocol, "Ranking protocol: loo or full")->capture_default_str();
    accuracy->add_option("--threads", o.threads, "LibTorch intra-op threads (default: LibTorch's own)")->check(CLI::Range(0, 1024));
    accuracy->add_flag("--json", o.json, "Print JSON instead of the Markdown table");
    accuracy->add_option("--out", o.out, "Also write the Markdown table to this file");
    accuracy->footer("Rating models use MovieLens-100K's u1..u5 folds when the data is ml-100k (each seed's figure "
                     "is the mean over the five folds). Progress goes to stderr on a terminal.");
}

int runBench(const BenchCliOptions& o)
{
    std::shared_ptr<const Dataset> dataset;
    BenchOptions options;
    try {
        if (o.protocol != "loo" && o.protocol != "full")
            throw ConfigError("protocol", "expected loo or full, got '" + o.protocol + "'");
        for (const auto& m : o.models)
            defaultConfigFor(m); // names the unknown model
        dataset = std::make_shared<const Dataset>(loadDataset(o.data));
    } catch (const Error& e) {
        std::cerr << "reclab-cli: " << e.what() << std::endl;
        return 2;
    }
    if (o.threads > 0)
        torch::set_num_threads(o.threads);
    options.models = o.models;
    options.seeds = o.seeds;
    options.epochs = o.epochs;
    options.rankingProtocol = o.protocol;
    if (::isatty(STDERR_FILENO))
        options.progress = [](const std::string& line) { std::cerr << line << std::endl; };
    std::vector<BenchRow> rows;
    try {
        rows = runAccuracyBench(dataset, options);
    } catch (const ConfigError& e) {
        std::cerr << "reclab-cli: " << e.what() << std::endl;
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "reclab-cli: benchmark failed: " << e.what() << std::endl;
        return 1;
    }
    const std::string table = benchMarkdown(rows);
    if (o.json)
        std::cout << benchJson(rows).dump() << std::endl;
    else
        std::cout << table;
    if (!o.out.empty()) {
        std::ofstream out(o.out);
        out << table;
        if (!out) {
            std::cerr << "reclab-cli: " << o.out << ": cannot write the table" << std::endl;
            return 1;
        }
    }
    return 0;
}

} // namespace reclab::cli
