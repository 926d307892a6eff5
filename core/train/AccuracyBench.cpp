#include "train/AccuracyBench.h"

#include "runs/Protocols.h"

#include "data/MovieLens100kLoader.h"
#include "zoo/ModelRegistry.h"
#include "train/Trainer.h"
#include "util/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace reclab {

namespace {

struct RunFigures {
    MetricValues metrics;
    double trainSecondsPerEpoch = 0, evalSeconds = 0;
};

RunFigures runOnce(const std::shared_ptr<const Dataset>& dataset, const TrainConfig& config)
{
    Trainer trainer(dataset, config);
    double train = 0, eval = 0;
    int epochs = 0;
    trainer.setEpochCallback([&](const EpochStats& s) {
        train += s.trainSeconds;
        eval += s.evalSeconds;
        ++epochs;
    });
    const RunOutcome outcome = trainer.fit();
    if (outcome.status != RunStatus::Finished)
        throw Error(config.model + " (seed " + std::to_string(config.seed) + "): " + outcome.message);
    RunFigures f;
    f.metrics = outcome.finalMetrics;
    f.trainSecondsPerEpoch = epochs ? train / epochs : 0;
    f.evalSeconds = epochs ? eval / epochs : 0;
    return f;
}

std::string format(double value)
{
    return formatMetric(value, std::fabs(value) >= 100 ? 1 : 4);
}

} // namespace

std::pair<double, double> meanAndStd(const std::vector<double>& values)
{
    if (values.empty())
        return {std::nan(""), std::nan("")};
    double mean = 0;
    for (const double v : values)
        mean += v;
    mean /= static_cast<double>(values.size());
    double ss = 0;
    for (const double v : values)
        ss += (v - mean) * (v - mean);
    const double sd = values.size() > 1 ? std::sqrt(ss / static_cast<double>(values.size() - 1)) : 0.0;
    return {mean, sd};
}

std::vector<BenchRow> runAccuracyBench(const std::shared_ptr<const Dataset>& dataset, const BenchOptions& options)
{
    std::vector<std::string> models = options.models;
    if (models.empty())
        for (const auto& m : modelRegistry())
            models.push_back(m.name);
    if (options.seeds < 1)
        throw ConfigError("seeds", "expected at least 1");
    const bool hasFolds = !dataset->presplit && looksLikeMovieLens100k(dataset->source);

    std::vector<BenchRow> rows;
    for (const auto& name : models) {
        TrainConfig base = defaultConfigFor(name); // ConfigError for unknown names
        const ModelInfo& info = *findModel(name);
        if (options.epochs > 0 && info.trainable)
            base.epochs = options.epochs;
        base.threads = options.threads;
        BenchRow row;
        row.model = name;
        row.displayName = info.displayName;
        const bool rating = info.task == TaskKind::RatingPrediction;
        const ProtocolInfo* chosen = findProtocol(options.rankingProtocol);
        if (chosen && chosen->anyTask)
            row.protocol = chosen->id; // every model on one split
        else
            row.protocol = rating ? (hasFolds ? "folds" : "holdout")
                                  : info.task == TaskKind::ClickThrough ? "din" : options.rankingProtocol;
        base.protocol = row.protocol;
        for (int s = 0; s < options.seeds; ++s) {
            TrainConfig config = base;
            config.seed = options.firstSeed + static_cast<uint64_t>(s);
            // Folds: the mean over u1..u5 is this seed's figure.
            const int folds = row.protocol == "folds" ? 5 : 1;
            std::map<std::string, double> sums;
            double train = 0, eval = 0;
            for (int fold = 1; fold <= folds; ++fold) {
                config.fold = fold;
                const RunFigures f = runOnce(dataset, config);
                for (const auto& m : f.metrics) {
                    if (std::find(row.metricOrder.begin(), row.metricOrder.end(), m.name) == row.metricOrder.end())
                        row.metricOrder.push_back(m.name);
                    sums[m.name] += m.value;
                }
                train += f.trainSecondsPerEpoch;
                eval += f.evalSeconds;
            }
            for (const auto& [metric, sum] : sums)
                row.metrics[metric].push_back(sum / folds);
            row.trainSecondsPerEpoch.push_back(train / folds);
            row.evalSeconds.push_back(eval / folds);
            if (options.progress) {
                std::string line = name + " seed " + std::to_string(config.seed) + ":";
                for (const auto& metric : row.metricOrder)
                    line += " " + metric + " " + format(row.metrics[metric].back());
                options.progress(line);
            }
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

std::string benchMarkdown(const std::vector<BenchRow>& rows)
{
    std::vector<std::string> columns;
    for (const auto& row : rows)
        for (const auto& metric : row.metricOrder)
            if (std::find(columns.begin(), columns.end(), metric) == columns.end())
                columns.push_back(metric);
    std::string out = "| model | protocol | seeds |";
    for (const auto& c : columns)
        out += " " + c + " |";
    out += " train s/epoch | eval s |\n|---|---|---|";
    for (size_t k = 0; k < columns.size() + 2; ++k)
        out += "---|";
    out += "\n";
    auto cell = [](const std::vector<double>& values) {
        const auto [mean, sd] = meanAndStd(values);
        return format(mean) + " ± " + format(sd);
    };
    for (const auto& row : rows) {
        out += "| " + row.displayName + " | " + row.protocol + " | " + std::to_string(row.trainSecondsPerEpoch.size()) + " |";
        for (const auto& c : columns) {
            const auto it = row.metrics.find(c);
            out += " " + (it == row.metrics.end() ? std::string("n/a") : cell(it->second)) + " |";
        }
        out += " " + cell(row.trainSecondsPerEpoch) + " | " + cell(row.evalSeconds) + " |\n";
    }
    return out;
}

nlohmann::json benchJson(const std::vector<BenchRow>& rows)
{
    nlohmann::json out = nlohmann::json::array();
    for (const auto& row : rows) {
        nlohmann::json metrics = nlohmann::json::object();
        for (const auto& name : row.metricOrder) {
            const auto& values = row.metrics.at(name);
            const auto [mean, sd] = meanAndStd(values);
            metrics[name] = {{"mean", mean}, {"std", sd}, {"values", values}};
        }
        const auto [train, trainSd] = meanAndStd(row.trainSecondsPerEpoch);
        const auto [eval, evalSd] = meanAndStd(row.evalSeconds);
        out.push_back({{"model", row.model},
                       {"protocol", row.protocol},
                       {"seeds", row.trainSecondsPerEpoch.size()},
                       {"metrics", metrics},
                       {"train_seconds_per_epoch", {{"mean", train}, {"std", trainSd}}},
                       {"eval_seconds", {{"mean", eval}, {"std", evalSd}}}});
    }
    return out;
}

} // namespace reclab
