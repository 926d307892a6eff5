#include "BenchCommand.h"

#include "data/DatasetSource.h"
#include "models/ModelRegistry.h"
#include "train/AccuracyBench.h"
#include "train/Trainer.h"
#include "train/TrainingTask.h"
#include "util/Error.h"
#include "util/Runtime.h"

#include <nlohmann/json.hpp>

#include <torch/utils.h>

#include <algorithm>
#include <chrono>
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
    accuracy->add_option("--threads", o.threads, "LibTorch intra-op and evaluation threads (default: LibTorch's intra-op choice, one evaluation thread per core)")->check(CLI::Range(0, 1024));
    accuracy->add_flag("--json", o.json, "Print JSON instead of the Markdown table");
    accuracy->add_option("--out", o.out, "Also write the Markdown table to this file");
    accuracy->footer("Rating models use MovieLens-100K's u1..u5 folds when the data is ml-100k (each seed's figure "
                     "is the mean over the five folds). Progress goes to stderr on a terminal.");

    auto* ranking = bench->add_subcommand(
        "ranking", "Time one full-ranking evaluation of every test user (leave-one-out, all items scored)");
    ranking->add_option("--data", o.data, "Dataset folder or file (default: the sample)");
    ranking->add_option("--model", o.model, "A ranking model (default neumf, 8 factors, MLP 64-32-16-8)")->capture_default_str();
    ranking->add_option("--repeat", o.repeat, "Evaluations timed; the median is reported")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    ranking->add_option("--threads", o.threads, "LibTorch intra-op and evaluation threads (default: LibTorch's intra-op choice, one evaluation thread per core)")->check(CLI::Range(0, 1024));
    ranking->add_flag("--json", o.json, "Print JSON");
}

int runRankingBench(const BenchCliOptions& o)
{
    try {
        const auto dataset = std::make_shared<const Dataset>(loadDataset(o.data.empty() ? "sample" : o.data));
        TrainConfig c = defaultConfigFor(o.model);
        if (findModel(o.model)->task != TaskKind::ImplicitRanking)
            throw ConfigError("model", o.model + " does not rank items");
        c.protocol = "full";
        c.factors = 8;
        c.mlpLayers = {64, 32, 16, 8};
        useThreads(o.threads);
        const auto task = TrainingTask::create(TaskKind::ImplicitRanking, *dataset, c);
        torch::manual_seed(c.seed);
        const auto model = findModel(o.model)->create(task->shape(), c);
        std::vector<double> ms;
        MetricValues metrics;
        for (int r = 0; r <= o.repeat; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            metrics = task->evaluate(*model, torch::kCPU);
            const double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            if (r > 0) // the first one warms the caches and the allocator
                ms.push_back(t);
        }
        std::sort(ms.begin(), ms.end());
        const double median = ms[ms.size() / 2];
        const auto* ranking = dynamic_cast<const ImplicitRankingTask*>(task.get());
        const auto users = ranking && ranking->fullEvaluator() ? ranking->fullEvaluator()->numUsers() : 0;
        if (o.json)
            std::cout << nlohmann::json{{"model", o.model}, {"users", users}, {"items", dataset->numItems()},
                                        {"threads", evaluationThreads()}, {"intra_op_threads", torch::get_num_threads()}, {"median_ms", median},
                                        {"min_ms", ms.front()}, {"max_ms", ms.back()}}
                             .dump()
                      << std::endl;
        else
            std::cout << o.model << ": full ranking of " << users << " users x " << dataset->numItems() << " items, "
                      << evaluationThreads() << " evaluation thread(s), " << torch::get_num_threads()
                      << " intra-op: median " << median << " ms (min " << ms.front()
                      << ", max " << ms.back() << ", " << ms.size() << " runs)" << std::endl;
        return 0;
    } catch (const Error& e) {
        std::cerr << "reclab-cli: " << e.what() << std::endl;
        return 2;
    }
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
    options.threads = o.threads;
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
