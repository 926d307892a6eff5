#include "BenchCommand.h"
#include "Commands.h"
#include "runs/Protocols.h"

#include "CliErrors.h"
#include "OptionChecks.h"
#include "data/DatasetSource.h"
#include "dist/DistributedRun.h"
#include "dist/RankGroup.h"
#include "zoo/ModelFactory.h"
#include "zoo/ModelRegistry.h"
#include "train/AccuracyBench.h"
#include "train/Trainer.h"
#include "train/TrainingTask.h"
#include "util/Error.h"
#include "util/Files.h"
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
    auto* bench = addCommand(app, "bench");
    auto* accuracy = bench->add_subcommand(
        "accuracy", "Train every model with several seeds on one dataset; print mean ± std of each metric");
    accuracy->add_option("--data", o.data, "Dataset folder or file (e.g. ../shared/datasets/ml-100k)")->required();
    accuracy->add_option("--seeds", o.seeds, "Seeds per model (42, 43, ...)")->capture_default_str()->check(CLI::Range(1, 100));
    accuracy->add_option("--models", o.models, "Models to run (default: all: " + modelNames(", ") + ")")->delimiter(',');
    accuracy->add_option("--epochs", o.epochs, "Epochs for every trainable model (default: each model's own)")
        ->check(CLI::Range(1, 100000));
    accuracy->add_option("--protocol", o.protocol,
                         "Ranking protocol: loo or full (rating and click-through models keep their own), or common: "
                         "every model on one split")->capture_default_str();
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
    ranking->add_flag("--defaults", o.defaults,
                      "The model's default sizes (NeuMF: 64 factors, MLP 256-128-64) instead of the paper's");
    ranking->add_flag("--json", o.json, "Print JSON");

    auto* speed = bench->add_subcommand(
        "speed", "Training throughput of a ranking model (NeuMF: 8 factors, MLP 64-32-16-8, Adam, no pre-training "
                 "and no L2, at several batch sizes, timed over the steady state of each run");
    speed->add_option("--data", o.data, "Dataset folder or file (default: the sample)");
    speed->add_option("--model", o.model, "A trainable ranking model")->capture_default_str();
    speed->add_option("--device", o.device, "cpu, cuda or cuda:N")->capture_default_str();
    speed->add_option("--batch", o.batches, "Batch sizes, one run each")->delimiter(',')->check(CLI::Range(1, 16777216));
    speed->add_option("--seconds", o.seconds, "Seconds of training timed per batch size")
        ->capture_default_str()
        ->check(numberIn(0.5, 3600.0));
    speed->add_option("--negatives", o.negatives, "Sampled negatives per positive")->capture_default_str()->check(CLI::Range(1, 1000));
    speed->add_option("--threads", o.threads, "LibTorch intra-op threads (default: LibTorch's choice)")->check(CLI::Range(0, 1024));
    speed->add_option("--processes", o.processes,
                      "Train on N processes of this machine (the global batch is --batch), reporting the time and bytes "
                      "of exchanging gradients per step")
        ->capture_default_str()
        ->check(CLI::Range(1, 1024));
    speed->add_option("--gradient-exchange", o.exchange, "With --processes: rows (embedding tables as the rows a step "
                                                         "touched) or dense (every gradient in one all-reduce)")
        ->capture_default_str()
        ->check(CLI::IsMember({"rows", "dense"}));
    speed->add_flag("--json", o.json, "Print one JSON object per batch size");
    speed->footer("Only batches are timed: from the first loss report of an epoch to its last (every 20 batches, "
                  "each waiting for the device), so the split, the sampling of negatives and evaluation are left out; "
                  "'setup' is the time from the start to the first report.");
}

namespace {

// The ranking benchmarks' model: the NCF paper's sizes (8 factors, MLP 64-32-16-8). Throws
// ConfigError for a model that does not rank items.
TrainConfig ncfSizedConfig(const std::string& model)
{
    TrainConfig c = defaultConfigFor(model);
    if (findModel(model)->task != TaskKind::ImplicitRanking)
        throw ConfigError("model", model + " does not rank items");
    c.factors = 8;
    c.mlpLayers = {64, 32, 16, 8};
    return c;
}

} // namespace

int runRankingBench(const BenchCliOptions& o)
{
    try {
        const auto dataset = std::make_shared<const Dataset>(loadDataset(o.data.empty() ? "sample" : o.data));
        TrainConfig c = ncfSizedConfig(o.model);
        if (o.defaults) {
            const TrainConfig d = defaultConfigFor(o.model);
            c.factors = d.factors;
            c.mlpLayers = d.mlpLayers;
        }
        c.protocol = "full";
        useThreads(o.threads);
        const auto task = TrainingTask::create(TaskKind::ImplicitRanking, *dataset, c);
        torch::manual_seed(c.seed);
        const auto model = createModel(*findModel(o.model), task->shape(), c);
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
            std::cout << nlohmann::json{{"model", o.model}, {"factors", c.factors}, {"mlp_layers", c.mlpLayers}, {"users", users}, {"items", dataset->numItems()},
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
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
}

int runSpeedBench(const BenchCliOptions& o)
{
    std::shared_ptr<const Dataset> dataset;
    TrainConfig sized;
    try {
        sized = ncfSizedConfig(o.model);
        dataset = std::make_shared<const Dataset>(loadDataset(o.data.empty() ? "sample" : o.data));
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
    for (const int batch : o.batches) {
        TrainConfig c = sized;
        c.pretrain = false;
        c.l2 = 0.0; // as the plain references (neumf_speed.py, neumf_gpu_ref.py)
        c.negatives = o.negatives;
        c.batchSize = batch;
        c.epochs = 100000; // stopped by time
        c.device = o.device;
        c.threads = o.threads;
        c.worldSize = o.processes;
        c.gradientExchange = o.exchange;
        // Spans of whole reports within one epoch: samples and seconds.
        struct Clock {
            int epoch = 0;
            int64_t step = 0;
            double at = 0.0;
            double timed = 0.0;
            int64_t samples = 0;
            double firstReport = -1.0;
        } clock;
        ExchangeTally exchanged;
        try {
            Trainer trainer(dataset, c);
            const auto start = std::chrono::steady_clock::now();
            std::unique_ptr<RankHost> host; // --processes: this is rank 0, the others train beside it
            if (c.worldSize > 1) {
                const std::string self = executablePath("reclab-train");
                host = std::make_unique<RankHost>(localWorld(c.worldSize), c, *dataset,
                                                  LocalLaunch{self, {self, "train", "--data", o.data.empty() ? "sample" : o.data}});
                trainer.setRankGroup(host->group());
            }
            trainer.setBatchCallback([&](const BatchProgress& p) {
                if (!p.phase.empty())
                    return;
                const double now = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                if (clock.firstReport < 0)
                    clock.firstReport = now;
                if (p.epoch == clock.epoch && p.batch < p.batchesPerEpoch) { // the epoch's last batch may be short
                    clock.samples += (p.step - clock.step) * batch;
                    clock.timed += now - clock.at;
                }
                clock.epoch = p.epoch;
                clock.step = p.step;
                clock.at = now;
                if (clock.timed >= o.seconds)
                    trainer.requestStop();
            });
            const RunOutcome outcome = trainer.fit();
            if (outcome.status == RunStatus::Failed)
                throw std::runtime_error(outcome.message);
            if (host) {
                exchanged = host->group()->tally(); // this epoch's steps so far
                host->finish();
            }
        } catch (const std::exception& e) {
            return reportFailure(e);
        }
        const double rate = clock.timed > 0 ? static_cast<double>(clock.samples) / clock.timed : 0.0;
        // Per step of the epoch timed.
        const double steps = static_cast<double>(std::max<int64_t>(1, exchanged.steps));
        const double exchangeMs = 1e3 * exchanged.seconds / steps, stepMs = rate > 0 ? 1e3 * batch / rate : 0.0;
        if (o.json) {
            nlohmann::json line{{"model", o.model},         {"device", o.device},
                                {"batch", batch},           {"samples_per_second", rate},
                                {"timed_seconds", clock.timed}, {"setup_seconds", clock.firstReport},
                                {"users", dataset->numUsers()}, {"items", dataset->numItems()},
                                {"interactions", dataset->interactions.size()}, {"processes", o.processes}};
            if (o.processes > 1) {
                line["gradient_exchange"] = o.exchange;
                line["step_ms"] = stepMs;
                line["exchange_ms_per_step"] = exchangeMs;
                line["exchange_bytes_per_step"] = exchanged.bytesSent / steps;
            }
            std::cout << line.dump() << std::endl;
        } else {
            std::printf("%s on %s, batch %d: %.0f samples/s over %.1f s (setup %.1f s)", o.model.c_str(), o.device.c_str(),
                        batch, rate, clock.timed, clock.firstReport);
            if (o.processes > 1)
                std::printf("; %d processes, %s: exchange %.2f of %.2f ms per step (%.0f%%), %.1f kB sent per step",
                            o.processes, o.exchange.c_str(), exchangeMs, stepMs, stepMs > 0 ? 100 * exchangeMs / stepMs : 0.0,
                            exchanged.bytesSent / steps / 1e3);
            std::printf("\n");
        }
        std::fflush(stdout);
    }
    return 0;
}

int runBench(const BenchCliOptions& o)
{
    std::shared_ptr<const Dataset> dataset;
    BenchOptions options;
    try {
        const ProtocolInfo* protocol = findProtocol(o.protocol);
        if (!protocol || !protocol->fits(TaskKind::ImplicitRanking))
            throw ConfigError("protocol", "expected " + protocolIds(protocolsFor(TaskKind::ImplicitRanking)) + ", got '" +
                                              o.protocol + "'");
        for (const auto& m : o.models)
            defaultConfigFor(m); // names the unknown model
        dataset = std::make_shared<const Dataset>(loadDataset(o.data));
    } catch (const std::exception& e) {
        return reportFailure(e);
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
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
    const std::string table = benchMarkdown(rows);
    if (o.json)
        std::cout << benchJson(rows).dump() << std::endl;
    else
        std::cout << table;
    if (!o.out.empty()) {
        try {
            writeFileWhole(o.out, table);
        } catch (const std::exception& e) {
            return reportFailure(e);
        }
    }
    return 0;
}

} // namespace reclab::cli
