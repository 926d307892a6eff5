#include "compare/RunComparison.h"

#include "runs/Metrics.h"
#include "runs/Protocols.h"
#include "runs/TrainConfig.h"
#include "util/Words.h"
#include "util/Error.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace reclab {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string fixed(double value, int decimals)
{
    if (!std::isfinite(value))
        return "n/a";
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

// p-values keep their magnitude: 0.0312, 4.1e-07.
std::string pValueText(double p)
{
    if (!std::isfinite(p))
        return "n/a";
    char text[32];
    std::snprintf(text, sizeof text, p >= 1e-4 ? "%.4f" : "%.1e", p);
    return text;
}

nlohmann::json finiteOrNull(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

} // namespace

bool isResultMetric(const std::string& key)
{
    static const std::set<std::string> curves = {"loss", "batch_loss", "train_seconds", "eval_seconds",
                                                 "samples_per_second", "learning_rate", "best_epoch",
                                                 "pretrain_seconds"};
    return !curves.count(key) && key.rfind("val_", 0) != 0 && key.rfind("pretrain_", 0) != 0;
}

std::string modelLabel(const RunRecord& run)
{
    if (run.model == kCustomGraphModel)
        for (const auto& [key, value] : flattenParams(run.paramsJson))
            if (key == "graph")
                return "graph: " + value;
    return run.model;
}

std::string runLabel(const RunRecord& run)
{
    std::string label = "#" + std::to_string(run.id) + " " + modelLabel(run);
    if (!run.name.empty())
        label += " (" + run.name + ")";
    return label;
}

namespace {

// The protocol a run was evaluated with: as recorded, else its task's default, the task read
// from the traits of its final metrics.
std::string protocolOfRun(const RunComparison& c, size_t r, const std::map<std::string, std::string>& params)
{
    if (const auto it = params.find("protocol"); it != params.end() && !it->second.empty())
        return it->second;
    for (size_t k = 0; k < c.metricKeys.size(); ++k)
        if (const MetricTraits* traits = metricTraits(c.metricKeys[k]); traits && std::isfinite(c.metrics[r][k]))
            return defaultProtocolFor(traits->task).id;
    return "unknown protocol";
}

// Every run with its protocol, and which of them share a split (those compare directly).
std::string splitGroups(const RunComparison& c, const std::vector<std::map<std::string, std::string>>& params)
{
    std::vector<std::string> runs;
    std::map<std::string, std::vector<std::string>> bySplit;
    for (size_t r = 0; r < c.runs.size(); ++r) {
        const std::string id = "#" + std::to_string(c.runs[r].id);
        runs.push_back(c.runLabels[r] + " on " + protocolOfRun(c, r, params[r]));
        if (!c.runs[r].splitFingerprint.empty())
            bySplit[c.runs[r].splitFingerprint].push_back(id);
    }
    std::vector<std::string> groups;
    for (const auto& [split, ids] : bySplit)
        if (ids.size() > 1)
            groups.push_back(joinWords(ids));
    return "Runs: " + joinWords(runs) + ". " +
           (groups.empty() ? std::string("No two of them share a split")
                           : "Comparable with each other: " + joinWords(groups, "; ")) +
           "; the common protocol puts every model on one split";
}

} // namespace

RunComparison compareRuns(ExperimentStore& store, const std::vector<int64_t>& runIds)
{
    RunComparison c;
    for (const int64_t id : runIds) {
        auto run = store.findRun(id);
        if (!run)
            throw StoreError(store.path() + " has no run " + std::to_string(id));
        c.runLabels.push_back(runLabel(*run));
        c.runs.push_back(std::move(*run));
    }
    const size_t n = c.runs.size();

    // Final metrics: the latest value of each result key.
    std::map<int64_t, std::map<std::string, double>> latest;
    std::map<int64_t, int> epochs; // the epoch of each run's latest training loss
    std::set<std::string> keys;
    for (const auto& run : c.runs)
        for (const auto& m : store.latestMetricsOf(run.id)) {
            if (m.key == "loss")
                epochs[run.id] = m.epoch;
            if (isResultMetric(m.key)) {
                latest[run.id][m.key] = m.value;
                keys.insert(m.key);
            }
        }
    c.metricKeys.assign(keys.begin(), keys.end());
    c.metrics.assign(n, std::vector<double>(c.metricKeys.size(), kNaN));
    for (size_t r = 0; r < n; ++r) {
        const auto& values = latest[c.runs[r].id];
        for (size_t k = 0; k < c.metricKeys.size(); ++k)
            if (const auto it = values.find(c.metricKeys[k]); it != values.end())
                c.metrics[r][k] = it->second;
        c.trainSeconds.push_back(store.trainingSeconds(c.runs[r].id));
        c.wallSeconds.push_back(store.wallSeconds(c.runs[r].id));
        c.epochs.push_back(epochs[c.runs[r].id]);
    }
    for (size_t k = 0; k < c.metricKeys.size(); ++k) {
        const bool lower = lowerIsBetter(c.metricKeys[k]);
        int best = -1;
        size_t measured = 0;
        for (size_t r = 0; r < n; ++r) {
            const double v = c.metrics[r][k];
            if (!std::isfinite(v))
                continue;
            ++measured;
            if (best < 0 || (lower ? v < c.metrics[best][k] : v > c.metrics[best][k]))
                best = static_cast<int>(r);
        }
        // A lone value is no winner: "best" needs two or more runs with the metric.
        c.bestRun.push_back(measured > 1 ? best : -1);
    }

    // Params.
    std::vector<std::map<std::string, std::string>> params(n);
    std::set<std::string> paramKeys;
    for (size_t r = 0; r < n; ++r)
        for (auto& [key, value] : store.params(c.runs[r].id)) {
            paramKeys.insert(key);
            params[r][key] = std::move(value);
        }
    c.paramKeys.assign(paramKeys.begin(), paramKeys.end());
    c.params.assign(n, std::vector<std::optional<std::string>>(c.paramKeys.size()));
    for (size_t k = 0; k < c.paramKeys.size(); ++k) {
        bool differs = false;
        for (size_t r = 0; r < n; ++r) {
            if (const auto it = params[r].find(c.paramKeys[k]); it != params[r].end())
                c.params[r][k] = it->second;
            differs = differs || c.params[r][k] != c.params[0][k];
        }
        c.paramDiffers.push_back(differs);
    }

    // Splits.
    c.sameSplit = n > 0;
    for (const auto& run : c.runs) {
        if (run.splitFingerprint.empty()) {
            c.sameSplit = false;
            c.splitNote = "run #" + std::to_string(run.id) + " has no recorded split (it was trained before splits were "
                          "recorded, or stopped before its data was split)";
            break;
        }
        if (run.splitFingerprint != c.runs.front().splitFingerprint) {
            c.sameSplit = false;
            c.splitNote = "runs #" + std::to_string(c.runs.front().id) + " and #" + std::to_string(run.id) +
                          " were evaluated on different splits (" +
                          (run.datasetFingerprint != c.runs.front().datasetFingerprint ? "different data" :
                                                                                        "same data, another held-out part or protocol") +
                          "): their metrics are not directly comparable";
            break;
        }
    }
    if (!c.sameSplit && n > 0)
        c.splitNote += ". " + splitGroups(c, params);

    // Significance: paired tests for two runs, the Friedman test for three to ten, on one split.
    if (n >= 3 && n <= 10 && c.sameSplit) {
        std::vector<UserMetrics> perRun;
        for (const auto& run : c.runs)
            perRun.push_back(store.userMetrics(run.id));
        for (const auto& first : perRun.front()) {
            std::vector<const UserMetric*> column{&first};
            for (size_t r = 1; r < n; ++r)
                for (const auto& m : perRun[r])
                    if (m.name == first.name)
                        column.push_back(&m);
            if (column.size() != n)
                continue;
            const auto values = alignByUser(column);
            if (!values.front().empty())
                c.rankTests.push_back({first.name, friedmanTest(values, lowerIsBetter(first.name))});
        }
    }
    if (n != 2) {
        c.significanceNote = "paired tests compare exactly two runs";
        if (n > 2)
            c.significanceNote += !c.rankTests.empty() ? "; the Friedman test ranks all of them"
                                  : !c.sameSplit       ? "; rank tests need runs on the same split"
                                                       : "";
    } else if (!c.sameSplit) {
        c.significanceNote = "paired tests need two runs on the same split: " + c.splitNote;
    } else {
        const UserMetrics a = store.userMetrics(c.runs[0].id), b = store.userMetrics(c.runs[1].id);
        std::vector<double> va, vb;
        for (const auto& ma : a)
            for (const auto& mb : b)
                if (ma.name == mb.name) {
                    pairByUser(ma, mb, va, vb);
                    if (!va.empty())
                        c.significance.push_back({ma.name, pairedTests(va, vb)});
                }
        if (c.significance.empty())
            c.significanceNote = "the runs have no per-user test metrics in common (a run records them when an epoch "
                                 "completes)";
    }
    return c;
}

TextTable metricsTable(const RunComparison& c)
{
    TextTable t;
    t.header.push_back("run");
    t.header.insert(t.header.end(), c.metricKeys.begin(), c.metricKeys.end());
    t.header.insert(t.header.end(), {"epochs", "train time (s)", "wall time (s)"});
    for (size_t r = 0; r < c.runs.size(); ++r) {
        std::vector<std::string> row{c.runLabels[r]};
        for (const double v : c.metrics[r])
            row.push_back(formatMetric(v));
        row.push_back(std::to_string(c.epochs[r]));
        row.push_back(fixed(c.trainSeconds[r], 1));
        row.push_back(std::isfinite(c.wallSeconds[r]) ? fixed(c.wallSeconds[r], 1) : "running");
        t.rows.push_back(std::move(row));
    }
    return t;
}

TextTable paramsTable(const RunComparison& c, bool differencesOnly)
{
    TextTable t;
    t.header.push_back("param");
    t.header.insert(t.header.end(), c.runLabels.begin(), c.runLabels.end());
    for (size_t k = 0; k < c.paramKeys.size(); ++k) {
        if (differencesOnly && !c.paramDiffers[k])
            continue;
        std::vector<std::string> row{c.paramKeys[k]};
        for (size_t r = 0; r < c.runs.size(); ++r)
            row.push_back(c.params[r][k].value_or(""));
        t.rows.push_back(std::move(row));
    }
    return t;
}

TextTable significanceTable(const RunComparison& c)
{
    TextTable t;
    t.header = {"metric", "users", "mean A", "mean B", "A - B", "95% CI", "t", "p (t-test)", "d_z", "W",
                "p (Wilcoxon)", "r (rank-biserial)"};
    for (const auto& s : c.significance) {
        const PairedTestResult& r = s.result;
        t.rows.push_back({s.metric, std::to_string(r.pairs), fixed(r.meanA, 4), fixed(r.meanB, 4),
                          fixed(r.meanDifference, 4), "[" + fixed(r.ciLow, 4) + ", " + fixed(r.ciHigh, 4) + "]",
                          fixed(r.t, 3), pValueText(r.tPValue), fixed(r.cohensDz, 3), fixed(r.w, 1),
                          pValueText(r.wilcoxonPValue) + (r.exact ? " (exact)" : ""), fixed(r.rankBiserial, 3)});
    }
    return t;
}

TextTable rankTestTable(const RunComparison& c)
{
    TextTable t;
    t.header = {"metric", "users", "chi2", "p (Friedman)", "CD (Nemenyi 0.05)"};
    for (const auto& label : c.runLabels)
        t.header.push_back("mean rank " + label);
    for (const auto& s : c.rankTests) {
        const RankTestResult& r = s.result;
        std::vector<std::string> row{s.metric, std::to_string(r.users), fixed(r.chiSquare, 3), pValueText(r.pValue),
                                     fixed(r.criticalDifference, 3)};
        for (const double m : r.meanRanks)
            row.push_back(fixed(m, 3));
        t.rows.push_back(std::move(row));
    }
    return t;
}

TextTable rankPairsTable(const RunComparison& c)
{
    TextTable t;
    t.header = {"metric", "A", "B", "z", "p", "p (Holm)"};
    for (const auto& s : c.rankTests)
        for (const auto& pair : s.result.pairs)
            t.rows.push_back({s.metric, c.runLabels[pair.a], c.runLabels[pair.b], fixed(pair.z, 3), pValueText(pair.p),
                              pValueText(pair.holmP)});
    return t;
}

std::string toCsv(const TextTable& table)
{
    std::ostringstream out;
    auto line = [&](const std::vector<std::string>& cells) {
        for (size_t i = 0; i < cells.size(); ++i) {
            const std::string& cell = cells[i];
            if (i)
                out << ',';
            if (cell.find_first_of(",\"\r\n") != std::string::npos) {
                out << '"';
                for (const char ch : cell)
                    out << (ch == '"' ? "\"\"" : std::string(1, ch));
                out << '"';
            } else {
                out << cell;
            }
        }
        out << "\r\n";
    };
    line(table.header);
    for (const auto& row : table.rows)
        line(row);
    return out.str();
}

std::string toMarkdown(const TextTable& table)
{
    std::ostringstream out;
    auto line = [&](const std::vector<std::string>& cells) {
        out << '|';
        for (const auto& cell : cells) {
            std::string escaped;
            for (const char ch : cell)
                escaped += ch == '|' ? std::string("\\|") : ch == '\n' ? std::string(" ") : std::string(1, ch);
            out << ' ' << escaped << " |";
        }
        out << '\n';
    };
    line(table.header);
    out << '|';
    for (size_t i = 0; i < table.header.size(); ++i)
        out << (i == 0 ? " --- |" : " ---: |");
    out << '\n';
    for (const auto& row : table.rows)
        line(row);
    return out.str();
}

nlohmann::json toJson(const RunComparison& c)
{
    nlohmann::json runs = nlohmann::json::array();
    for (size_t r = 0; r < c.runs.size(); ++r) {
        nlohmann::json metrics = nlohmann::json::object(), params = nlohmann::json::object();
        for (size_t k = 0; k < c.metricKeys.size(); ++k)
            metrics[c.metricKeys[k]] = finiteOrNull(c.metrics[r][k]);
        for (size_t k = 0; k < c.paramKeys.size(); ++k)
            if (c.params[r][k])
                params[c.paramKeys[k]] = *c.params[r][k];
        runs.push_back({{"id", c.runs[r].id},
                        {"label", c.runLabels[r]},
                        {"status", runStatusName(c.runs[r].status)},
                        {"split", c.runs[r].splitFingerprint},
                        {"epochs", c.epochs[r]},
                        {"train_seconds", c.trainSeconds[r]},
                        {"wall_seconds", finiteOrNull(c.wallSeconds[r])},
                        {"metrics", metrics},
                        {"params", params}});
    }
    nlohmann::json best = nlohmann::json::object();
    for (size_t k = 0; k < c.metricKeys.size(); ++k)
        best[c.metricKeys[k]] = c.bestRun[k] >= 0 ? nlohmann::json(c.runs[static_cast<size_t>(c.bestRun[k])].id)
                                                  : nlohmann::json(nullptr);
    nlohmann::json differing = nlohmann::json::array();
    for (size_t k = 0; k < c.paramKeys.size(); ++k)
        if (c.paramDiffers[k])
            differing.push_back(c.paramKeys[k]);
    nlohmann::json tests = nlohmann::json::array();
    for (const auto& s : c.significance) {
        const PairedTestResult& r = s.result;
        tests.push_back({{"metric", s.metric},
                         {"pairs", r.pairs},
                         {"mean_a", finiteOrNull(r.meanA)},
                         {"mean_b", finiteOrNull(r.meanB)},
                         {"mean_difference", finiteOrNull(r.meanDifference)},
                         {"ci95", {finiteOrNull(r.ciLow), finiteOrNull(r.ciHigh)}},
                         {"t", finiteOrNull(r.t)},
                         {"t_p_value", finiteOrNull(r.tPValue)},
                         {"cohens_dz", finiteOrNull(r.cohensDz)},
                         {"wilcoxon_w", finiteOrNull(r.w)},
                         {"wilcoxon_z", finiteOrNull(r.z)},
                         {"wilcoxon_p_value", finiteOrNull(r.wilcoxonPValue)},
                         {"wilcoxon_exact", r.exact},
                         {"rank_biserial", finiteOrNull(r.rankBiserial)}});
    }
    nlohmann::json ranks = nlohmann::json::array();
    for (const auto& s : c.rankTests) {
        const RankTestResult& r = s.result;
        nlohmann::json pairs = nlohmann::json::array();
        for (const auto& p : r.pairs)
            pairs.push_back({{"a", c.runs[p.a].id}, {"b", c.runs[p.b].id}, {"z", finiteOrNull(p.z)},
                             {"p_value", finiteOrNull(p.p)}, {"holm_p_value", finiteOrNull(p.holmP)}});
        nlohmann::json meanRanks = nlohmann::json::array();
        for (const double m : r.meanRanks)
            meanRanks.push_back(finiteOrNull(m));
        ranks.push_back({{"metric", s.metric},
                         {"users", r.users},
                         {"mean_ranks", meanRanks},
                         {"friedman_chi2", finiteOrNull(r.chiSquare)},
                         {"friedman_p_value", finiteOrNull(r.pValue)},
                         {"nemenyi_cd", finiteOrNull(r.criticalDifference)},
                         {"pairs", pairs}});
    }
    return {{"runs", runs},
            {"best", best},
            {"differing_params", differing},
            {"same_split", c.sameSplit},
            {"split_note", c.splitNote},
            {"significance", tests},
            {"significance_note", c.significanceNote},
            {"rank_tests", ranks}};
}

} // namespace reclab
