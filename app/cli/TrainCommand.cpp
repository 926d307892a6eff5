#include "TrainCommand.h"
#include "Commands.h"
#include "CliErrors.h"
#include "OptionChecks.h"
#include "StopSignals.h"

#include "data/DatasetSource.h"
#include "dist/DistributedRun.h"
#include "util/Files.h"
#include "runs/Metrics.h"
#include "runs/Protocols.h"
#include "graph/GraphSpec.h"
#include "zoo/ModelRegistry.h"
#include "store/ExperimentStore.h"
#include "runs/TrainFields.h"
#include "runs/StoredRuns.h"
#include "inspection/StoredRun.h"
#include "train/Replay.h"
#include "train/TrainingSession.h"
#include "util/Error.h"
#include "util/Words.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <optional>
#include <iostream>

namespace reclab::cli {

namespace {

std::atomic<TrainingSession*> activeSession{nullptr};
std::atomic<Trainer*> activeTrainer{nullptr}; // a rank other than 0

extern "C" void onSignal(int)
{
    if (TrainingSession* s = activeSession.load())
        s->requestStop();
    if (Trainer* t = activeTrainer.load())
        t->requestStop();
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
        for (const auto& field : trainFields())
            if (const auto given = o.fields.find(field.option);
                field.architecture && given != o.fields.end() && !given->second.empty())
                throw ConfigError(field.option, std::string("set in the graph itself, not with --graph ") + o.graph);
        graphTask(GraphSpec::fromJson(c.graph, o.graph)); // refuses an invalid graph here, in one line
    }
    for (const auto& [option, text] : o.fields)
        if (!text.empty()) // not given
            setFieldFromText(c, *trainField(option), text);
    // The next-item losses shape a next-item model's training only: another model would ignore them.
    for (const char* option : {"loss", "label-smoothing"})
        if (const auto given = o.fields.find(option); given != o.fields.end() && !given->second.empty()) {
            if (abilitiesOf(c).nextItems)
                break; // the model's abilities are read once, and only when an option was given
            std::vector<std::string> models;
            for (const ModelInfo& m : modelRegistry())
                if (m.graph && abilitiesOf(m.defaults).nextItems)
                    models.push_back(m.name);
            throw ConfigError(option, "applies to models that predict the next item (" + joinWords(models, " or ") +
                                          ", or a graph scoring every item), not " + c.model);
        }
    // A model's own label smoothing belongs to its cross-entropy: another loss given goes without it.
    if (const auto smoothing = o.fields.find("label-smoothing"); c.loss != "ce" && (smoothing == o.fields.end() || smoothing->second.empty()))
        c.labelSmoothing = 0.0;
    if (o.pretrain)
        c.pretrain = true;
    if (o.noPretrain)
        c.pretrain = false;
    if (o.dedup)
        c.duplicates = "latest";
    if (o.keepDuplicates)
        c.duplicates = "keep";
    checkConfig(c);
    return c;
}

// --resume, --clone and --continue: the run's own configuration; only the fields a resumed run may change
// (epochs, device, threads) are taken from the options, and the device is the CPU unless given.
TrainConfig storedRunConfig(const TrainOptions& o, const std::string& dbPath)
{
    TrainConfig c = storedTrainConfig(dbPath, o.resume > 0 ? o.resume : o.clone > 0 ? o.clone : o.continueRun);
    c.device = "cpu";
    for (const auto& [option, text] : o.fields)
        if (const TrainField* field = trainField(option); field->resumable && !text.empty())
            setFieldFromText(c, *field, text);
    checkConfig(c);
    return c;
}

// The CLI's check for a field, as the value's kind and range say.
CLI::Validator checkFor(const TrainField& f)
{
    return std::visit(
        [&](auto member) -> CLI::Validator {
            using T = std::decay_t<decltype(TrainConfig{}.*member)>;
            if constexpr (std::is_same_v<T, int>)
                return CLI::Range(f.min, f.max);
            else if constexpr (std::is_same_v<T, double>)
                return limitOf(f.option);
            else if constexpr (std::is_same_v<T, uint64_t>)
                return seedNumber();
            else if constexpr (std::is_same_v<T, std::string>)
                return f.choices.empty() ? CLI::Validator() : CLI::Validator(CLI::IsMember(f.choices));
            else
                return CLI::Validator();
        },
        f.member);
}

const char* typeNameOf(const TrainField& f)
{
    return std::visit(
        [](auto member) -> const char* {
            using T = std::decay_t<decltype(TrainConfig{}.*member)>;
            if constexpr (std::is_same_v<T, int> || std::is_same_v<T, uint64_t>)
                return "INT";
            else if constexpr (std::is_same_v<T, double>)
                return "FLOAT";
            else if constexpr (std::is_same_v<T, std::vector<int64_t>>)
                return "SIZES";
            else
                return "TEXT";
        },
        f.member);
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
        if (s.worldSize > 1) {
            line["world_size"] = s.worldSize;
            line["exchange_seconds"] = s.exchangeSeconds;
            line["exchange_bytes_per_step"] = s.exchangeBytesPerStep;
            line["dense_bytes_per_step"] = s.denseBytesPerStep;
        }
        std::cout << line.dump() << std::endl;
        return;
    }
    std::printf("epoch %3d  loss %.4f", s.epoch, s.loss);
    for (const auto& m : s.metrics)
        std::printf("  %s %s", m.name.c_str(), formatMetric(m.value).c_str());
    std::printf("  %.0f samples/s  (train %.2f s, eval %.3f s)", s.samplesPerSecond, s.trainSeconds, s.evalSeconds);
    if (s.worldSize > 1)
        std::printf("  %d processes: exchange %.2f s (%.0f%%), %.1f kB/step sent (dense %.1f kB)", s.worldSize,
                    s.exchangeSeconds, s.trainSeconds > 0 ? 100.0 * s.exchangeSeconds / s.trainSeconds : 0.0,
                    s.exchangeBytesPerStep / 1e3, s.denseBytesPerStep / 1e3);
    std::printf("\n");
    std::fflush(stdout);
}

// A rank other than 0 of a run on several processes: it loads its data, takes the run's
// configuration from rank 0 and trains its share; rank 0 evaluates and records. Prints nothing
// but a failure.
int runJoinedRank(const TrainOptions& o, const World& world)
{
    try {
        auto dataset = std::make_shared<const Dataset>(loadDataset(o.data));
        const JoinedRank joined = joinRankZero(world, *dataset);
        Trainer trainer(dataset, joined.config);
        trainer.setRankGroup(joined.group);
        activeTrainer.store(&trainer);
        const StopSignals signals(onSignal);
        const RunOutcome outcome = trainer.fit();
        activeTrainer.store(nullptr);
        if (outcome.status == RunStatus::Failed)
            std::cerr << "reclab-cli: " << world.describe() << ": " << oneLine(outcome.message) << std::endl;
        return outcome.status == RunStatus::Finished ? 0 : outcome.status == RunStatus::Stopped ? 130 : 1;
    } catch (const std::exception& e) {
        activeTrainer.store(nullptr);
        return reportFailure(e, world.describe() + ": ");
    }
}

// The world of this run: torchrun's (or a cluster's) from the environment, or --processes N
// local processes started here; nullopt for one process.
std::optional<World> worldOf(const TrainOptions& o, TrainConfig& config, const std::optional<World>& launched)
{
    if (launched && launched->distributed()) {
        if (const auto given = o.fields.find("processes"); given != o.fields.end() && !given->second.empty() &&
                                                           config.worldSize != launched->size)
            throw ConfigError("processes", "is " + std::to_string(config.worldSize) + " but the launcher's WORLD_SIZE is " +
                                               std::to_string(launched->size) + ": give one of them");
        config.worldSize = launched->size;
        return launched;
    }
    if (config.worldSize <= 1)
        return std::nullopt;
    if (!distributedTrainingBuilt())
        throw ConfigError("processes", "this build cannot train across processes: LibTorch's c10d with Gloo was not "
                                       "found when it was built (on Debian: apt-get install libgloo-dev, then build again)");
    return localWorld(config.worldSize);
}

// Each protocol of the catalogue with the models of its task, described with the defaults' numbers.
std::string protocolsFooter()
{
    const TrainConfig defaults;
    std::string out = "Protocols (the first of a task is its default):\n";
    for (const auto& p : protocolCatalogue()) {
        std::string models;
        for (const auto& m : modelRegistry())
            if (p.fits(m.task))
                models += (models.empty() ? "" : ", ") + m.name;
        out += "  " + p.id + " (" + models + "): " + protocolDescription(p, defaults) + "\n";
    }
    return out;
}

} // namespace

void addTrainCommand(CLI::App& app, TrainOptions& o)
{
    auto* train = addCommand(app, "train");
    train->add_option("--data", o.data, "Dataset: a MovieLens-100K folder, or 'sample' / 'sample:SEED' for the bundled generated data")
        ->capture_default_str();
    auto* model = train->add_option("--model", o.model, "Model: " + modelNames(", "))->capture_default_str();
    train->add_option("--graph", o.graph,
                      "Train a model graph file (JSON, see 'reclab-cli graph') instead of --model; its task decides "
                      "the protocol")
        ->excludes(model);
    // The training options: one flag per field of the table, in its order.
    std::vector<CLI::Option*> fixed{model, train->get_option("--graph")};
    for (const auto& field : trainFields()) {
        const char* help = field.flag() ? field.help : nullptr;
        std::string text = help ? help : "";
        if (std::string(field.option) == "protocol")
            text = "Evaluation protocol: " + protocolIds() + " (described below; default: the first of the model's task)";
        else if (!help)
            continue;
        const std::string names = "--" + std::string(field.option) + (field.alias ? ",--" + std::string(field.alias) : "");
        auto* opt = train->add_option(names, o.fields[field.option], text)
                        ->type_name(typeNameOf(field))
                        ->check(checkFor(field));
        if (!field.resumable)
            fixed.push_back(opt);
    }
    auto* pretrain = train->add_flag("--pretrain", o.pretrain,
                                     "neumf, hybrid: train the GMF and MLP halves first (same settings), start the whole "
                                     "from them (alpha 0.5) and go on with SGD; their default");
    fixed.push_back(pretrain);
    fixed.push_back(train->add_flag("--no-pretrain", o.noPretrain, "neumf, hybrid: train from a random start with Adam")->excludes(pretrain));
    auto* dedup = train->add_flag("--dedup", o.dedup,
                                  "Keep only the latest row of each (user, item) pair; loo and full refuse data that repeats "
                                  "pairs unless this or --keep-duplicates is given");
    fixed.push_back(dedup);
    fixed.push_back(train->add_flag("--keep-duplicates", o.keepDuplicates,
                                    "Train and test on rows that repeat a (user, item) pair as they are")
                        ->excludes(dedup));
    auto* resume = train->add_option("--resume", o.resume,
                                     "Continue the stopped or interrupted run RUN of --db from its last checkpoint, with its own "
                                     "settings (--epochs may raise its epochs; --data must give the same data)")
                       ->check(wholeNumberIn(1, 9.2e18L));
    for (CLI::Option* opt : fixed)
        resume->excludes(opt);
    auto* clone = train->add_option("--clone", o.clone,
                                    "Train a new run with the settings of run RUN of --db: model, graph, seed and split "
                                    "(--epochs, --device and --threads may change; --data must give the same data)")
                      ->check(wholeNumberIn(1, 9.2e18L))
                      ->excludes(resume);
    for (CLI::Option* opt : fixed)
        clone->excludes(opt);
    auto* continued =
        train->add_option("--continue", o.continueRun,
                          "Train a new run with the settings of run RUN of --db on new data (--data: the same users "
                          "and items and more), starting from RUN's weights: its user and item tables grow for the new "
                          "ones (fresh rows, old rows kept by id), no pre-training (--epochs, --device, --threads may change)")
            ->check(wholeNumberIn(1, 9.2e18L))
            ->excludes(resume)
            ->excludes(clone);
    for (CLI::Option* opt : fixed)
        continued->excludes(opt);
    train->add_option("--experiment", o.experiment, "File the run under this experiment (created if new; default: Default)")
        ->excludes(resume);
    train->add_option("--name", o.name, "A name for the run")->excludes(resume);
    train->add_option("--tag", o.tags, "A tag for the run (repeatable)")->excludes(resume);
    train->add_option("--db", o.db, "Experiment database (default: " + defaultDatabasePath() + ")");
    train->add_flag("--json", o.json, "Print one JSON object per epoch, then one with the run id");
    train->footer(protocolsFooter() +
                  "Several processes: --processes N starts them here; under torchrun (or Slurm, or a PyTorchJob) the "
                  "launcher's RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT say who is who, and every rank "
                  "runs this same command (rank 0 records the run). RECLAB_DIST_TIMEOUT (seconds, default 300) bounds "
                  "every wait between them.\n"
                  "Exit codes: 0 finished, 1 training failed, 2 bad option or dataset, 130 stopped.");
}

int runTrain(const TrainOptions& o)
{
    std::optional<World> launched;
    try {
        launched = worldFromEnvironment();
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
    if (launched && launched->distributed() && launched->rank > 0)
        return runJoinedRank(o, *launched);

    const std::string dbPath = o.db.empty() ? defaultDatabasePath() : o.db;
    std::unique_ptr<TrainingSession> owned;
    std::unique_ptr<RankHost> host; // a run on several processes: this is rank 0
    try {
        TrainConfig config =
            o.resume > 0 || o.clone > 0 || o.continueRun > 0 ? storedRunConfig(o, dbPath) : configFrom(o);
        const std::optional<World> world = worldOf(o, config, launched);
        auto dataset = std::make_shared<const Dataset>(loadDataset(o.data));
        owned = std::make_unique<TrainingSession>(dataset, config, dbPath); // sizes checked against the data
        if (o.continueRun > 0) {
            const StoredModel stored = loadStoredModel(dbPath, o.continueRun);
            continueFrom(owned->trainer(), stored.model, *stored.data, *dataset);
        }
        if (world) {
            std::optional<LocalLaunch> launch;
            if (!launched) { // --processes: the other ranks are this program, given the same data
                const std::string self = executablePath("reclab-train");
                launch = LocalLaunch{self, {self, "train", "--data", o.data}};
            }
            host = std::make_unique<RankHost>(*world, config, *dataset, launch);
            std::string note = "training on " + std::to_string(world->size) + " processes (" + distributedBackends() +
                               ", ranks meet at " + world->masterAddr + ":" + std::to_string(world->masterPort) + ")";
            const auto pids = host->localPids();
            for (size_t k = 0; k < pids.size(); ++k)
                note += (k == 0 ? "; ranks 1.. are pids " : ", ") + std::to_string(pids[k]);
            std::cerr << "note: " << note << std::endl;
            owned->setRankGroup(host->group(), [h = host.get()] { return h->failures(); });
        }
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
    TrainingSession& session = *owned;
    if (o.resume > 0)
        session.resume(o.resume);
    session.setLabels({o.experiment, o.name, o.tags, o.clone > 0 ? o.clone : o.continueRun, o.continueRun > 0});
    session.setEpochCallback([&](const EpochStats& s) { printEpoch(s, o.json); });
    session.setNoteCallback([](const std::string& note) { std::cerr << "note: " << note << '\n'; });
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
    if (host) // after a failure here the others are not waited for long
        if (const std::string failed = host->finish(code == 0 && outcome.status == RunStatus::Finished ? -1.0 : 3.0);
            !failed.empty() && code == 0)
            std::cerr << "reclab-cli: " << oneLine(failed) << std::endl;
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
