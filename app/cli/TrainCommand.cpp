#include "TrainCommand.h"
#include "CliErrors.h"
#include "OptionChecks.h"
#include "StopSignals.h"

#include "data/DatasetSource.h"
#include "eval/Metrics.h"
#include "eval/Protocols.h"
#include "graph/GraphSpec.h"
#include "models/ModelRegistry.h"
#include "store/ExperimentStore.h"
#include "train/TrainingSession.h"
#include "util/Error.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <iostream>

namespace reclab::cli {

namespace {

std::atomic<TrainingSession*> activeSession{nullptr};

extern "C" void onSignal(int)
{
    if (TrainingSession* s = activeSession.load())
        s->requestStop();
}

nlohmann::json metricsJson(const MetricValues& metrics)
{
    nlohmann::json out = nlohmann::json::object();
    for (const auto& m : metrics)
        out[m.name] = m.value;
    return out;
}

TrainConfig configFrom(const TrainOptions& o)
{
    TrainConfig c;
    if (o.graph.empty()) {
        c = defaultConfigFor(o.model);
    } else {
        // The graph fixes the architecture; the options here train it.
        c.model = kCustomGraphModel;
        c.graph = GraphSpec::load(o.graph).toJson();
        const std::pair<bool, const char*> architecture[] = {{o.factors != 0, "factors"},
                                                             {!o.mlpLayers.empty(), "mlp-layers"},
                                                             {!o.attentionLayers.empty(), "attention-layers"},
                                                             {!o.activation.empty(), "activation"}};
        for (const auto& [given, name] : architecture)
            if (given)
                throw ConfigError(name, std::string("set in the graph itself, not with --graph ") + o.graph);
        graphTask(GraphSpec::fromJson(c.graph, o.graph)); // refuses an invalid graph here, in one line
    }
    if (o.epochs)
        c.epochs = o.epochs;
    if (o.batch)
        c.batchSize = o.batch;
    if (o.lr)
        c.learningRate = o.lr;
    if (o.seedGiven)
        c.seed = o.seed;
    if (o.negatives)
        c.negatives = o.negatives;
    if (o.factors)
        c.factors = o.factors;
    if (o.l2 >= 0)
        c.l2 = o.l2;
    if (!o.optimizer.empty())
        c.optimizer = o.optimizer;
    c.weightDecay = o.weightDecay;
    c.momentum = o.momentum;
    c.threads = o.threads;
    c.device = o.device;
    if (!o.protocol.empty())
        c.protocol = o.protocol;
    if (o.fold)
        c.fold = o.fold;
    if (o.pretrain)
        c.pretrain = true;
    if (o.noPretrain)
        c.pretrain = false;
    if (!o.mlpLayers.empty())
        c.mlpLayers = o.mlpLayers;
    if (!o.similarity.empty())
        c.similarity = o.similarity;
    if (o.neighbours)
        c.neighbours = o.neighbours;
    if (o.shrink >= 0)
        c.shrink = o.shrink;
    if (!o.attentionLayers.empty())
        c.attentionLayers = o.attentionLayers;
    if (!o.activation.empty())
        c.activation = o.activation;
    if (o.history)
        c.historyLength = o.history;
    if (o.positiveRating > -1e300)
        c.positiveRating = o.positiveRating;
    if (!o.validationMetric.empty())
        c.validationMetric = o.validationMetric;
    if (o.patience >= 0)
        c.patience = o.patience;
    if (o.validationFraction > 0)
        c.validationFraction = o.validationFraction;
    if (o.dedup)
        c.duplicates = "latest";
    if (o.keepDuplicates)
        c.duplicates = "keep";
    c.validate();
    return c;
}

// --resume and --clone: the run's own configuration; only the epochs, device and threads may change.
TrainConfig storedRunConfig(const TrainOptions& o, const std::string& dbPath)
{
    TrainConfig c = TrainingSession::storedConfig(dbPath, o.resume > 0 ? o.resume : o.clone);
    if (o.epochs)
        c.epochs = o.epochs;
    c.device = o.device;
    if (o.threads)
        c.threads = o.threads;
    c.validate();
    return c;
}

void printEpoch(const EpochStats& s, bool json)
{
    if (json) {
        nlohmann::json line{{"epoch", s.epoch},
                            {"loss", s.loss},
                            {"train_seconds", s.trainSeconds},
                            {"eval_seconds", s.evalSeconds},
                            {"samples_per_second", s.samplesPerSecond},
                            {"metrics", metricsJson(s.metrics)}};
        std::cout << line.dump() << std::endl;
        return;
    }
    std::printf("epoch %3d  loss %.4f", s.epoch, s.loss);
    for (const auto& m : s.metrics)
        std::printf("  %s %s", m.name.c_str(), formatMetric(m.value).c_str());
    std::printf("  %.0f samples/s  (train %.2f s, eval %.3f s)\n", s.samplesPerSecond, s.trainSeconds, s.evalSeconds);
    std::fflush(stdout);
}

// Each protocol of the catalogue with the models of its task, described with the defaults' numbers.
std::string protocolsFooter()
{
    const TrainConfig defaults;
    std::string out = "Protocols (the first of a task is its default):\n";
    for (const auto& p : protocolCatalogue()) {
        std::string models;
        for (const auto& m : modelRegistry())
            if (m.task == p.task)
                models += (models.empty() ? "" : ", ") + m.name;
        out += "  " + p.id + " (" + models + "): " + protocolDescription(p, defaults) + "\n";
    }
    return out;
}

} // namespace

void addTrainCommand(CLI::App& app, TrainOptions& o)
{
    auto* train = app.add_subcommand("train", "Train a model on a dataset and record the run in the database");
    train->add_option("--data", o.data, "Dataset: a MovieLens-100K folder, or 'sample' / 'sample:SEED' for the bundled generated data")
        ->capture_default_str();
    auto* model = train->add_option("--model", o.model, "Model: " + modelNames(", "))->capture_default_str();
    train->add_option("--graph", o.graph,
                      "Train a model graph file (JSON, see 'reclab-cli graph') instead of --model; its task decides "
                      "the protocol")
        ->excludes(model);
    train->add_option("--epochs", o.epochs, "Training epochs (default: the model's: 9 for gmf/mlp/neumf, 20 for bpr, 60 for mf, 2 for base and din)")
        ->check(CLI::Range(1, 100000));
    train->add_option("--batch", o.batch, "Mini-batch size (default 256)")->check(CLI::Range(1, 1 << 24));
    train->add_option("--lr", o.lr, "Learning rate (default: the model's, 0.0007 for mf, 0.001 for the others)")
        ->check(limitOf("lr"));
    train->add_option("--seed", o.seed, "Seed for the split, the sampled negatives and the initial weights (default 42)")
        ->check(seedNumber())
        ->each([&o](const std::string&) { o.seedGiven = true; });
    train->add_option("--threads", o.threads, "LibTorch intra-op threads and RecLab's evaluation threads (default: LibTorch's own intra-op choice, one evaluation thread per core)")
        ->check(CLI::Range(0, 1024));
    train->add_option("--negatives", o.negatives, "Sampled negatives per positive for implicit models (default: the model's, 8 for gmf/mlp/neumf, 1 for bpr)")
        ->check(CLI::Range(1, 1000));
    train->add_option("--factors", o.factors, "Latent factors: GMF size for neumf/gmf, MF size for mf and bpr (64), embedding per field for base/din (16)")
        ->check(CLI::Range(1, 4096));
    train->add_option("--l2", o.l2, "L2 weight: mf on the batch's factors and biases (default 0.115), gmf/mlp/neumf on the batch's embedding rows (0.001), bpr on the batch's factors (0), base/din mini-batch aware on the batch's item embeddings (0.1)")
        ->check(limitOf("l2"));
    train->add_option("--optimizer", o.optimizer, "adam (default), sgd or adagrad, with torch.optim's update rules")
        ->check(CLI::IsMember({"adam", "sgd", "adagrad"}));
    train->add_option("--weight-decay", o.weightDecay, "The optimizer's L2 on every parameter, as torch.optim's weight_decay (default 0)")
        ->check(limitOf("weight-decay"));
    train->add_option("--momentum", o.momentum, "sgd: momentum (default 0)")->check(limitOf("momentum"));
    train->add_option("--device", o.device, "cpu, cuda or cuda:N")->capture_default_str();
    train->add_option("--similarity", o.similarity, "itemknn/userknn: cosine (default) or pearson");
    train->add_option("--neighbours", o.neighbours, "itemknn/userknn: neighbours kept per item or user (default 100)")
        ->check(CLI::Range(1, 1000000));
    train->add_option("--shrink", o.shrink, "itemknn/userknn: shrinkage added to the similarity's denominator (default 0)")
        ->check(limitOf("shrink"));
    train->add_option("--protocol", o.protocol,
                      "Evaluation protocol: " + protocolIds() + " (described below; default: the first of the model's task)");
    train->add_option("--mlp-layers", o.mlpLayers,
                      "mlp/neumf: tower sizes, the first twice the embedding (default 256,128,64); "
                      "base/din: hidden sizes of the network over pooled behaviours and candidate (default 200,80)")
        ->delimiter(',');
    train->add_option("--attention-layers", o.attentionLayers, "din: hidden sizes of the local activation unit (default 80,40)")
        ->delimiter(',');
    train->add_option("--activation", o.activation, "base/din: dice (default) or prelu");
    train->add_option("--history", o.history, "base/din: latest behaviours kept per sample (default 50)")
        ->check(CLI::Range(1, 10000));
    train->add_option("--positive-rating", o.positiveRating, "base/din: a sample is positive when its rating is at least this (default 4)")
        ->check(limitOf("positive-rating"));
    auto* pretrain = train->add_flag("--pretrain", o.pretrain,
                                     "neumf: train GMF and MLP first (same settings), start NeuMF from them (alpha 0.5) "
                                     "and go on with SGD; neumf's default");
    train->add_flag("--no-pretrain", o.noPretrain, "neumf: train from a random start with Adam")->excludes(pretrain);
    auto* dedup = train->add_flag("--dedup", o.dedup,
                                  "Keep only the latest row of each (user, item) pair; loo and full refuse data that repeats "
                                  "pairs unless this or --keep-duplicates is given");
    train->add_flag("--keep-duplicates", o.keepDuplicates, "Train and test on rows that repeat a (user, item) pair as they are")
        ->excludes(dedup);
    train->add_option("--fold", o.fold, "With --protocol folds: which of u1..u5 (default 1)")->check(CLI::Range(1, 5));
    auto* validation = train->add_option(
        "--validation-metric", o.validationMetric,
        "Early stopping on this metric of a validation part held out of the training data (each user's latest "
        "but one interaction for loo/full, 10% of the ratings or users otherwise): hr, ndcg, mrr (at 10), rmse, mae, "
        "auc, gauc, logloss. The best epoch's weights are kept and tested once at the end");
    train->add_option("--patience", o.patience, "With --validation-metric: epochs without improvement before stopping (default 3, 0: never early)")
        ->check(CLI::Range(0, 100000));
    train->add_option("--validation-fraction", o.validationFraction, "With --validation-metric: share of ratings (holdout, folds) or users (din) validated on (default 0.1)")
        ->check(limitOf("validation-fraction"));
    auto* resume = train->add_option("--resume", o.resume,
                                     "Continue the stopped or interrupted run RUN of --db from its last checkpoint, with its own "
                                     "settings (--epochs may raise its epochs; --data must give the same data)")
                       ->check(wholeNumberIn(1, 9.2e18L));
    for (const char* fixed : {"--model", "--graph", "--batch", "--lr", "--seed", "--negatives", "--factors", "--l2",
                              "--optimizer", "--weight-decay", "--momentum", "--similarity", "--neighbours", "--shrink",
                              "--protocol", "--mlp-layers", "--attention-layers", "--activation", "--history",
                              "--positive-rating", "--pretrain", "--no-pretrain", "--fold", "--patience",
                              "--validation-fraction", "--dedup", "--keep-duplicates"})
        resume->excludes(train->get_option(fixed));
    resume->excludes(validation);
    auto* clone = train->add_option("--clone", o.clone,
                                    "Train a new run with the settings of run RUN of --db: model, graph, seed and split "
                                    "(--epochs, --device and --threads may change; --data must give the same data)")
                      ->check(wholeNumberIn(1, 9.2e18L))
                      ->excludes(resume);
    for (CLI::Option* opt : resume->get_excludes())
        if (opt != clone)
            clone->excludes(opt);
    train->add_option("--experiment", o.experiment, "File the run under this experiment (created if new; default: Default)")
        ->excludes(resume);
    train->add_option("--name", o.name, "A name for the run")->excludes(resume);
    train->add_option("--tag", o.tags, "A tag for the run (repeatable)")->excludes(resume);
    train->add_option("--db", o.db, "Experiment database (default: " + defaultDatabasePath() + ")");
    train->add_flag("--json", o.json, "Print one JSON object per epoch, then one with the run id");
    train->footer(protocolsFooter() + "Exit codes: 0 finished, 1 training failed, 2 bad option or dataset, 130 stopped.");
}

int runTrain(const TrainOptions& o)
{
    const std::string dbPath = o.db.empty() ? defaultDatabasePath() : o.db;
    std::unique_ptr<TrainingSession> owned;
    try {
        const TrainConfig config = o.resume > 0 || o.clone > 0 ? storedRunConfig(o, dbPath) : configFrom(o);
        auto dataset = std::make_shared<const Dataset>(loadDataset(o.data));
        owned = std::make_unique<TrainingSession>(dataset, config, dbPath); // sizes checked against the data
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
    TrainingSession& session = *owned;
    if (o.resume > 0)
        session.resume(o.resume);
    session.setLabels({o.experiment, o.name, o.tags, o.clone});
    session.setEpochCallback([&](const EpochStats& s) { printEpoch(s, o.json); });
    activeSession.store(&session);

    RunOutcome outcome;
    int code = 0;
    try {
        const StopSignals signals(onSignal);
        outcome = session.run();
    } catch (const std::exception& e) {
        code = reportFailure(e, dynamic_cast<const Error*>(&e) ? "" : "training failed: ");
    }
    activeSession.store(nullptr);
    if (code != 0)
        return code;

    if (outcome.status == RunStatus::Failed)
        std::cerr << "reclab-cli: " << oneLine(outcome.message) << std::endl;
    if (o.json) {
        nlohmann::json last{{"run_id", session.runId()},
                            {"status", runStatusName(outcome.status)},
                            {"epochs", outcome.epochsCompleted},
                            {"metrics", metricsJson(outcome.finalMetrics)},
                            {"database", dbPath}};
        if (!outcome.message.empty())
            last["message"] = outcome.message;
        if (outcome.testedAtBest)
            last["best_epoch"] = outcome.bestEpoch;
        std::cout << last.dump() << std::endl;
    } else {
        if (outcome.status == RunStatus::Finished && !outcome.message.empty())
            std::printf("%s\n", outcome.message.c_str());
        if (outcome.testedAtBest) {
            std::printf("test at the best epoch (%d):", outcome.bestEpoch);
            for (const auto& m : outcome.finalMetrics)
                std::printf("  %s %s", m.name.c_str(), formatMetric(m.value).c_str());
            std::printf("\n");
        }
        std::printf("run %lld %s (%s)\n", static_cast<long long>(session.runId()), runStatusName(outcome.status),
                    dbPath.c_str());
    }
    switch (outcome.status) {
    case RunStatus::Finished: return 0;
    case RunStatus::Stopped: return 130;
    default: return 1;
    }
}

} // namespace reclab::cli
