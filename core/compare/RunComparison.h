// Runs side by side, as the compare view and `reclab-cli runs compare` show them: a models x
// metrics table (final test metrics, training time, the best run per column), a params table
// with the params that differ, whether the runs share a split, and for two runs on the same
// split paired significance tests on their per-user test metrics. Tables export as CSV and
// Markdown.
#pragma once

#include "compare/PairedTests.h"
#include "compare/RankTests.h"
#include "store/ExperimentStore.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace reclab {

// A plain table of text cells, for CSV, Markdown and the GUI's table views.
struct TextTable {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
};
std::string toCsv(const TextTable& table);      // RFC 4180 quoting
std::string toMarkdown(const TextTable& table); // a GitHub-flavoured pipe table

struct RunComparison {
    std::vector<RunRecord> runs;
    std::vector<std::string> runLabels; // "#12 neumf", "#13 graph: NeuMF (tuned)"

    std::vector<std::string> metricKeys;        // final test metrics any run has, sorted
    std::vector<std::vector<double>> metrics;   // [run][key]; NaN: n/a (absent or undefined)
    std::vector<int> bestRun;                   // per key: the best run's index; -1 unless two or more runs have it
    // Per run: training time (pre-training included; evaluation and set-up not), and wall time
    // from start to end (everything; the runs table's Duration). NeuMF on the sample: about
    // 12 s of the first without pre-training counted, 27 s of the second.
    std::vector<double> trainSeconds;
    std::vector<double> wallSeconds;
    std::vector<int> epochs;                    // per run: epochs completed

    std::vector<std::string> paramKeys;                         // union, sorted
    std::vector<std::vector<std::optional<std::string>>> params; // [run][key]
    std::vector<bool> paramDiffers;                              // per key

    bool sameSplit = false; // every run has the same, known split fingerprint
    std::string splitNote;  // why not, for the flag people see

    struct Significance {
        std::string metric;
        PairedTestResult result; // a = runs[0], b = runs[1]
    };
    std::vector<Significance> significance; // two runs on the same split with per-user metrics
    std::string significanceNote;           // why there are none, when there are none
    struct RankComparison {
        std::string metric;
        RankTestResult result; // runs in the order of runs
    };
    std::vector<RankComparison> rankTests; // 3 to 10 runs on the same split: Friedman and post-hoc pairs
};

// Throws StoreError naming the run when one does not exist.
RunComparison compareRuns(ExperimentStore& store, const std::vector<int64_t>& runIds);

// The model as people name it: the registry name, or "graph: NeuMF" for a graph run.
std::string modelLabel(const RunRecord& run);
// The run's label: "#id " and its model label, then its name in brackets.
std::string runLabel(const RunRecord& run);
// Whether a stored metric key is a final held-out metric (not the loss curve, timings, the
// learning rate, validation curves or pre-training).
bool isResultMetric(const std::string& key);

// Run, then its metrics (formatted, n/a where missing), epochs and training seconds.
TextTable metricsTable(const RunComparison& c);
// Param, then its value per run ("" where a run has none); only the differing ones on request.
TextTable paramsTable(const RunComparison& c, bool differencesOnly);
// Metric, pairs, means, mean difference with its 95% interval, t, p, d_z, W, p, r.
TextTable significanceTable(const RunComparison& c);
// Three or more runs: per metric the Friedman test and each run's mean rank (1 = best); and
// every pair's post-hoc z with its Holm-adjusted p-value.
TextTable rankTestTable(const RunComparison& c);
TextTable rankPairsTable(const RunComparison& c);

nlohmann::json toJson(const RunComparison& c);

} // namespace reclab
