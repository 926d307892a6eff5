#include "ReplayCommand.h"
#include "Commands.h"
#include "OptionChecks.h"

#include "data/DatasetSource.h"
#include "train/Replay.h"
#include "zoo/ModelRegistry.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace reclab::cli {

void addReplayCommand(CLI::App& app, ReplayCliOptions& o)
{
    auto* cmd = addCommand(app, "replay");
    cmd->add_option("--model", o.model, "A ranking model over ids (default gmf): " + modelNames());
    cmd->add_option("--data", o.data, "Dataset with timestamps (default: the bundled sample)");
    cmd->add_option("--days", o.days, "The last days with interactions to replay (default 14)")->check(wholeNumberIn(1, 365));
    cmd->add_option("--update-epochs", o.updateEpochs, "Epochs of each day's incremental update (default 2)")->check(wholeNumberIn(1, 100));
    cmd->add_option("--earlier-rows", o.earlierRows, "Earlier rows replayed per new row in an update (default 4)")->check(numberIn(0, 100));
    cmd->add_option("--epochs", o.epochs, "Epochs of the first training and of each retraining (default: the model's)")
        ->check(wholeNumberIn(1, 10000));
    cmd->add_option("--negatives", o.negatives, "Sampled negatives per test interaction (default 100)")->check(wholeNumberIn(1, 10000));
    cmd->add_option("--seed", o.seed, "Seed (default 42)")->check(seedNumber());
    cmd->add_option("--threads", o.threads, "Threads (default: LibTorch's)")->check(wholeNumberIn(0, 64));
    cmd->add_option("--device", o.device, "cpu, cuda or cuda:N (default cpu)");
    cmd->add_flag("--no-retrain", o.noRetrain, "Only the incremental line (no retraining from scratch each day)");
    cmd->add_flag("--json", o.json, "One JSON line per day, then a summary line");
}

int runReplay(const ReplayCliOptions& o)
{
    ReplayConfig config;
    config.train = defaultConfigFor(o.model);
    if (o.epochs > 0)
        config.train.epochs = o.epochs;
    config.train.seed = o.seed;
    config.train.threads = o.threads;
    config.train.device = o.device;
    config.days = o.days;
    config.updateEpochs = o.updateEpochs;
    config.earlierRows = o.earlierRows;
    config.negatives = o.negatives;
    config.retrain = !o.noRetrain;
    const Dataset data = loadDataset(o.data);
    bool header = false; // printed with the first day, so a refusal is the only line
    const ReplayResult r = replayDays(data, config, [&](const ReplayDay& d) {
        if (!o.json && !header) {
            header = true;
            std::printf("%-10s %6s %5s %4s %4s  %-19s  %-19s\n", "day", "rows", "users", "new", "new", "incremental",
                        config.retrain ? "retrained" : "");
            std::printf("%-10s %6s %5s %4s %4s  %-19s  %-19s\n", "", "", "", "usr", "item", "HR@10   seconds",
                        config.retrain ? "HR@10   seconds" : "");
        }
        if (o.json) {
            nlohmann::json line{{"day", d.date},        {"rows", d.rows},
                                {"users", d.users},     {"new_users", d.newUsers},
                                {"new_items", d.newItems}, {"incremental", {{"hr@10", d.hrIncremental}, {"ndcg@10", d.ndcgIncremental}, {"seconds", d.secondsIncremental}}}};
            if (config.retrain)
                line["retrained"] = {{"hr@10", d.hrRetrained}, {"ndcg@10", d.ndcgRetrained}, {"seconds", d.secondsRetrained}};
            std::cout << line.dump() << std::endl;
        } else {
            std::printf("%-10s %6lld %5lld %4lld %4lld  %.4f %8.2f", d.date.c_str(), static_cast<long long>(d.rows),
                        static_cast<long long>(d.users), static_cast<long long>(d.newUsers),
                        static_cast<long long>(d.newItems), d.hrIncremental, d.secondsIncremental);
            if (config.retrain)
                std::printf("    %.4f %8.2f", d.hrRetrained, d.secondsRetrained);
            std::printf("\n");
            std::fflush(stdout);
        }
    });
    double hrInc = 0, hrFull = 0, secInc = 0, secFull = 0, rows = 0;
    for (const ReplayDay& d : r.days) {
        hrInc += d.hrIncremental * static_cast<double>(d.rows);
        hrFull += d.hrRetrained * static_cast<double>(d.rows);
        rows += static_cast<double>(d.rows);
        secInc += d.secondsIncremental;
        secFull += d.secondsRetrained;
    }
    const double denominator = rows > 0 ? rows : 1;
    if (o.json) {
        nlohmann::json summary{{"model", o.model}, {"days", r.days.size()}, {"base_rows", r.baseRows},
                               {"base_seconds", r.baseSeconds}, {"incremental", {{"hr@10", hrInc / denominator}, {"seconds", secInc}}}};
        if (config.retrain)
            summary["retrained"] = {{"hr@10", hrFull / denominator}, {"seconds", secFull}};
        std::cout << summary.dump() << std::endl;
    } else {
        std::printf("first training on %lld rows: %.2f s; over the %zu days (HR@10 of all their interactions): "
                    "incremental %.4f in %.2f s",
                    static_cast<long long>(r.baseRows), r.baseSeconds, r.days.size(), hrInc / denominator, secInc);
        if (config.retrain)
            std::printf(", retrained %.4f in %.2f s", hrFull / denominator, secFull);
        std::printf("\n");
    }
    return 0;
}

} // namespace reclab::cli
