#include "RunsCommand.h"
#include "Commands.h"

#include "CliErrors.h"
#include "OptionChecks.h"
#include "compare/RunComparison.h"
#include "compare/RunFilter.h"
#include "util/Error.h"
#include "util/Files.h"
#include "util/TextFile.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace reclab::cli {

namespace {

// The metrics a runs list shows.
const std::vector<std::string> kSummaryKeys = listedMetricKeys();

nlohmann::json metricJson(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json runJson(const RunRecord& r)
{
    return {{"id", r.id},
            {"experiment", r.experiment},
            {"name", r.name},
            {"label", runLabel(r)},
            {"model", r.model},
            {"dataset", r.dataset},
            {"dataset_source", r.datasetSource},
            {"dataset_fingerprint", r.datasetFingerprint},
            {"split_fingerprint", r.splitFingerprint},
            {"seed", r.seed},
            {"parent_run", r.parentRunId > 0 ? nlohmann::json(r.parentRunId) : nlohmann::json(nullptr)},
            {"status", runStatusName(r.status)},
            {"message", r.message},
            {"notes", r.notes},
            {"tags", r.tags},
            {"started_at", r.startedAt},
            {"ended_at", r.endedAt.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.endedAt)}};
}

// Writes text to options.out, or to stdout.
void emit(const RunsOptions& o, const std::string& text)
{
    if (o.out.empty()) {
        std::cout << text;
        return;
    }
    writeFileWhole(o.out, text);
}

// A fixed-width table for terminals.
std::string aligned(TextTable t)
{
    // Names, tags and notes are the user's text: control characters are shown, not obeyed.
    for (auto& row : t.rows)
        for (auto& cell : row)
            cell = printableText(cell);
    std::vector<size_t> width(t.header.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (size_t i = 0; i < row.size() && i < width.size(); ++i)
            width[i] = std::max(width[i], row[i].size());
    };
    measure(t.header);
    for (const auto& row : t.rows)
        measure(row);
    std::ostringstream out;
    auto line = [&](const std::vector<std::string>& row) {
        for (size_t i = 0; i < row.size(); ++i) {
            out << row[i];
            if (i + 1 < row.size())
                out << std::string(width[i] - row[i].size() + 2, ' ');
        }
        out << '\n';
    };
    line(t.header);
    for (const auto& row : t.rows)
        line(row);
    return out.str();
}

int list(ExperimentStore& store, const RunsOptions& o)
{
    RunFilter filter;
    filter.text = o.search;
    filter.model = o.model;
    filter.dataset = o.dataset;
    filter.experiment = o.experiment;
    filter.tag = o.tag;
    if (!o.status.empty()) {
        const std::string upper = [&] {
            std::string s = o.status;
            for (auto& ch : s)
                ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            return s;
        }();
        if (std::string(runStatusName(runStatusFromName(upper))) != upper)
            throw ConfigError("status", "'" + o.status + "' is none of running, finished, failed, stopped, interrupted");
        filter.status = runStatusFromName(upper);
    }
    for (const auto& p : o.params)
        filter.params.push_back(parseParamCondition(p));

    std::map<int64_t, std::map<std::string, double>> latest;
    for (const auto& m : store.latestMetrics(kSummaryKeys))
        latest[m.runId][m.key] = m.value;
    std::vector<RunRecord> shown;
    for (auto& run : store.listRuns()) {
        if (!filter.matches(run, filter.needsParams() ? store.params(run.id) : std::vector<std::pair<std::string, std::string>>{}))
            continue;
        shown.push_back(std::move(run));
        if (o.limit > 0 && static_cast<int>(shown.size()) >= o.limit)
            break;
    }
    if (o.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& run : shown) {
            nlohmann::json j = runJson(run);
            nlohmann::json metrics = nlohmann::json::object();
            for (const auto& [key, value] : latest[run.id])
                metrics[key] = metricJson(value);
            j["metrics"] = metrics;
            out.push_back(j);
        }
        std::cout << out.dump(2) << '\n';
        return 0;
    }
    TextTable t{{"run", "experiment", "model", "dataset", "status", "started (UTC)", "metrics", "tags"}, {}};
    for (const auto& run : shown) {
        std::string metrics;
        for (const auto& key : kSummaryKeys)
            if (const auto it = latest[run.id].find(key); it != latest[run.id].end())
                metrics += (metrics.empty() ? "" : " ") + key + " " + formatMetric(it->second);
        std::string tags;
        for (const auto& tag : run.tags)
            tags += (tags.empty() ? "" : ",") + tag;
        std::string started = run.startedAt.substr(0, 19);
        if (started.size() > 10)
            started[10] = ' ';
        t.rows.push_back({runLabel(run), run.experiment, run.model, run.dataset, runStatusName(run.status), started,
                          metrics.empty() ? "-" : metrics, tags});
    }
    std::cout << aligned(t);
    if (shown.empty())
        std::cout << "(no runs" << (filter.text.empty() && filter.params.empty() ? "" : " match") << " in "
                  << store.path() << ")\n";
    return 0;
}

RunRecord required(ExperimentStore& store, int64_t id)
{
    auto run = store.findRun(id);
    if (!run)
        throw StoreError(store.path() + " has no run " + std::to_string(id));
    return *run;
}

int show(ExperimentStore& store, const RunsOptions& o)
{
    const RunRecord run = required(store, o.ids.front());
    const auto params = store.params(run.id);
    const auto latest = store.latestMetricsOf(run.id);
    const auto artifacts = store.artifacts(run.id);
    if (o.json) {
        nlohmann::json j = runJson(run);
        j["params"] = nlohmann::json::parse(run.paramsJson, nullptr, false);
        nlohmann::json metrics = nlohmann::json::object();
        for (const auto& m : latest)
            metrics[m.key] = metricJson(m.value);
        j["metrics"] = metrics;
        j["train_seconds"] = store.trainingSeconds(run.id);
        nlohmann::json files = nlohmann::json::array();
        for (const auto& a : artifacts)
            files.push_back({{"path", a.path}, {"kind", a.kind}, {"bytes", a.bytes}});
        j["artifacts"] = files;
        j["artifact_dir"] = runArtifactDir(store.path(), run.id);
        std::cout << j.dump(2) << '\n';
        return 0;
    }
    std::cout << "Run " << printableText(runLabel(run)) << "\n"
              << "  experiment   " << printableText(run.experiment) << "\n"
              << "  status       " << runStatusName(run.status) << (run.message.empty() ? "" : ": " + printableText(run.message)) << "\n"
              << "  started      " << run.startedAt << (run.endedAt.empty() ? "" : ", ended " + run.endedAt) << "\n"
              << "  dataset      " << printableText(run.dataset) << " (" << printableText(run.datasetSource) << "), fingerprint " << run.datasetFingerprint
              << "\n"
              << "  split        " << (run.splitFingerprint.empty() ? "not recorded" : run.splitFingerprint) << "\n"
              << "  seed         " << run.seed << "\n";
    if (run.parentRunId > 0)
        std::cout << "  cloned from  #" << run.parentRunId << "\n";
    if (!run.tags.empty()) {
        std::cout << "  tags        ";
        for (const auto& t : run.tags)
            std::cout << ' ' << printableText(t);
        std::cout << "\n";
    }
    if (!run.notes.empty())
        std::cout << "  notes        " << printableText(run.notes) << "\n";
    std::cout << "Params\n";
    for (const auto& [key, value] : params)
        std::cout << "  " << key << " = " << value << "\n";
    std::cout << "Final metrics\n";
    for (const auto& m : latest)
        if (isResultMetric(m.key) || m.key.rfind("val_", 0) == 0 || m.key == "loss" || m.key == "best_epoch")
            std::cout << "  " << m.key << " = " << formatMetric(m.value) << "\n";
    std::cout << "  training time = " << formatMetric(store.trainingSeconds(run.id), 1) << " s\n";
    std::cout << "Artifacts (" << runArtifactDir(store.path(), run.id) << ")\n";
    for (const auto& a : artifacts)
        std::cout << "  " << a.path << "  " << a.kind << "  " << a.bytes << " bytes\n";
    return 0;
}

// The metric history of runs as CSV rows (run, key, step, epoch, value, wall time), or whole
// runs as JSON (record, params, history, per-user test metrics).
int exportRuns(ExperimentStore& store, const RunsOptions& o)
{
    const std::string format = o.format.empty() ? (o.json ? "json" : "csv") : o.format;
    if (format != "csv" && format != "json")
        throw ConfigError("format", "export writes csv or json, not '" + format + "'");
    std::vector<RunRecord> runs;
    for (const int64_t id : o.ids)
        runs.push_back(required(store, id));
    if (format == "csv") {
        TextTable t{{"run", "key", "step", "epoch", "value", "wall_time"}, {}};
        for (const auto& run : runs)
            for (const auto& p : store.metrics(run.id)) {
                char value[32], wall[32];
                std::snprintf(value, sizeof value, "%.17g", p.value);
                std::snprintf(wall, sizeof wall, "%.3f", p.wallTime);
                t.rows.push_back({std::to_string(run.id), p.key, std::to_string(p.step), std::to_string(p.epoch),
                                  std::isnan(p.value) ? "" : value, wall});
            }
        emit(o, toCsv(t));
        return 0;
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& run : runs) {
        nlohmann::json j = runJson(run);
        j["params"] = nlohmann::json::parse(run.paramsJson, nullptr, false);
        nlohmann::json history = nlohmann::json::array();
        for (const auto& p : store.metrics(run.id))
            history.push_back({{"key", p.key}, {"step", p.step}, {"epoch", p.epoch}, {"value", metricJson(p.value)},
                               {"wall_time", p.wallTime}});
        j["metrics"] = history;
        nlohmann::json perUser = nlohmann::json::object();
        for (const auto& m : store.userMetrics(run.id)) {
            nlohmann::json values = nlohmann::json::array();
            for (const double v : m.values)
                values.push_back(metricJson(v));
            perUser[m.name] = {{"users", m.users}, {"values", values}};
        }
        j["user_metrics"] = perUser;
        out.push_back(j);
    }
    emit(o, out.dump(2) + "\n");
    return 0;
}

int compare(ExperimentStore& store, const RunsOptions& o)
{
    if (o.ids.size() < 2)
        throw ConfigError("ids", "compare needs two runs or more");
    const RunComparison c = compareRuns(store, o.ids);
    if (o.json) {
        emit(o, toJson(c).dump(2) + "\n");
        return 0;
    }
    const std::string format = o.format.empty() ? "table" : o.format;
    if (format != "table" && format != "csv" && format != "markdown")
        throw ConfigError("format", "compare writes table, csv or markdown, not '" + format + "'");
    const TextTable table = o.paramsTable ? paramsTable(c, o.differencesOnly) : metricsTable(c);
    if (format == "csv") {
        emit(o, toCsv(table));
        return 0;
    }
    std::ostringstream out;
    out << (format == "markdown" ? toMarkdown(table) : aligned(table));
    if (!o.paramsTable) {
        out << "\n";
        for (size_t k = 0; k < c.metricKeys.size(); ++k)
            if (c.bestRun[k] >= 0)
                out << (format == "markdown" ? "- " : "") << "best " << c.metricKeys[k] << ": "
                    << c.runLabels[static_cast<size_t>(c.bestRun[k])] << "\n";
        if (!c.sameSplit)
            out << "\n" << (format == "markdown" ? "**Warning:** " : "warning: ") << c.splitNote << "\n";
        if (!c.significance.empty()) {
            out << "\nPaired tests on per-user test metrics, A = " << c.runLabels[0] << ", B = " << c.runLabels[1] << ":\n\n";
            out << (format == "markdown" ? toMarkdown(significanceTable(c)) : aligned(significanceTable(c)));
        } else if (c.runs.size() == 2) {
            out << "\nNo paired test: " << c.significanceNote << "\n";
        }
        const auto table = [&](const TextTable& t) { return format == "markdown" ? toMarkdown(t) : aligned(t); };
        if (!c.rankTests.empty()) {
            out << "\nFriedman test on per-user test metrics (mean rank 1 = best of the runs for every user):\n\n"
                << table(rankTestTable(c)) << "\nPost-hoc pairs (z of the mean-rank difference, Holm-adjusted):\n\n"
                << table(rankPairsTable(c));
        } else if (c.runs.size() > 2) {
            out << "\nNo rank test: " << c.significanceNote << "\n";
        }
    }
    emit(o, out.str());
    return 0;
}

} // namespace

void addRunsCommand(CLI::App& app, RunsOptions& o)
{
    auto* runs = addCommand(app, "runs");
    auto db = [&](CLI::App* cmd) {
        cmd->add_option("--db", o.db, "Experiment database (default: ~/.local/share/reclab/reclab.db)");
        cmd->add_flag("--json", o.json, "Print JSON");
    };
    auto* listCmd = runs->add_subcommand("list", "The runs, newest first, with their final metrics");
    db(listCmd);
    listCmd->add_option("--search", o.search, "Words that must all occur (name, model, dataset, tags, notes, ...)");
    listCmd->add_option("--model", o.model, "Only this model");
    listCmd->add_option("--dataset", o.dataset, "Only this dataset (its short name)");
    listCmd->add_option("--experiment", o.experiment, "Only this experiment");
    listCmd->add_option("--tag", o.tag, "Only runs with this tag");
    listCmd->add_option("--status", o.status, "Only runs with this status (finished, failed, stopped, interrupted, running)");
    listCmd->add_option("--param", o.params, "A condition on a param, e.g. learning_rate<0.01 or optimizer=adam (repeatable)");
    listCmd->add_option("--limit", o.limit, "At most this many runs")->check(wholeNumberIn(0, 2e9L));

    auto* showCmd = runs->add_subcommand("show", "One run: record, params, final metrics and artifacts");
    db(showCmd);
    showCmd->add_option("run", o.ids, "Run id")->required()->expected(1);

    auto* exportCmd = runs->add_subcommand("export", "Runs' metric histories as CSV, or whole runs as JSON");
    db(exportCmd);
    exportCmd->add_option("runs", o.ids, "Run ids")->required()->expected(1, -1);
    exportCmd->add_option("--format", o.format, "csv (the metric history) or json (everything)");
    exportCmd->add_option("--out", o.out, "Write to this file instead of stdout");

    auto* compareCmd = runs->add_subcommand("compare", "Runs side by side: models x metrics, params, paired tests");
    db(compareCmd);
    compareCmd->add_option("runs", o.ids, "Run ids (two or more)")->required()->expected(2, -1);
    compareCmd->add_option("--format", o.format, "table, csv or markdown");
    compareCmd->add_flag("--params", o.paramsTable, "The params table instead of the metrics");
    compareCmd->add_flag("--diff-only", o.differencesOnly, "With --params: only the params that differ");
    compareCmd->add_option("--out", o.out, "Write to this file instead of stdout");
}

int runRuns(CLI::App& runsCommand, const RunsOptions& o)
{
    try {
        ExperimentStore store(o.db.empty() ? defaultDatabasePath() : o.db);
        store.recoverInterruptedRuns();
        if (runsCommand.got_subcommand("list"))
            return list(store, o);
        if (runsCommand.got_subcommand("show"))
            return show(store, o);
        if (runsCommand.got_subcommand("export"))
            return exportRuns(store, o);
        return compare(store, o);
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
}

} // namespace reclab::cli
