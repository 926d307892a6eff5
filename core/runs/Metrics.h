// Evaluation metrics as plain functions over ranks and predictions (no torch, no Qt), so they
// can be checked against hand-computed cases.
#pragma once

#include "runs/ModelTraits.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace reclab {

struct MetricValue {
    std::string name; // e.g. "hr@10", "ndcg@10", "rmse"
    double value = 0.0;
};
using MetricValues = std::vector<MetricValue>;

// One metric per evaluated user of the test part, for paired comparisons of two runs on the
// same split (per-user t-test and Wilcoxon). users ascending; NaN where the metric is undefined
// for a user (an AUC over one class).
struct UserMetric {
    std::string name;
    std::vector<int32_t> users;
    std::vector<double> values;
};
using UserMetrics = std::vector<UserMetric>;

// A metric for people: "n/a" where it is undefined (NaN: stored as NULL), never 0; else
// fixed-point with the given decimals.
std::string formatMetric(double value, int decimals = 4);

// What RecLab knows about a metric, in one table: its task, whether it is cut at K, which way
// is better, and whether it measures accuracy (so it can drive early stopping).
struct MetricTraits {
    const char* name;  // as stored, without "@K": "ndcg", "rmse"
    const char* label; // for people: "NDCG", "RMSE"
    TaskKind task;
    bool atK;              // reported as name@K
    bool lowerIsBetter;    // errors, losses, popularity bias
    bool accuracy;         // a measure of accuracy (coverage and popularity are not)
    bool allItemsOnly;     // reported by protocols that rank every item ("full")
    bool listed;           // a column of the run lists (Experiments tab, reclab-cli runs list)
};
const std::vector<MetricTraits>& metricTable();
// The traits of a stored key ("ndcg@10", "val_rmse", "full_hr@10"); nullptr for other keys (loss, timings).
const MetricTraits* metricTraits(const std::string& key);

// The keys the run lists show, in the table's order (HR before NDCG, RMSE before MAE, AUC
// before GAUC), the cut ones at topK.
std::vector<std::string> listedMetricKeys(int topK = 10);

// Whether smaller values of the key are better: errors and losses ("rmse", "mae", "logloss",
// the training "loss", also with a "val_" prefix) and popularity bias ("avgpop@K").
bool lowerIsBetter(const std::string& metric);

// The names a task's evaluation gives under a protocol ("full" adds precision, recall, MAP,
// coverage and average popularity to a ranking's HR, NDCG and MRR at topK), known before any
// data is split, so a bad validation metric is refused before a run starts.
std::vector<std::string> taskMetricNames(TaskKind kind, const std::string& protocol, int topK);

// The common protocol's metrics for a model of this task: HR, NDCG and MRR at topK over the
// sampled candidates and (prefixed "full_") over all unseen items, AUC and GAUC over the sampled
// candidates, and LogLoss (click probabilities) or RMSE and MAE (rating models).
std::vector<std::string> commonMetricNames(TaskKind kind, int topK);
// The prefix of a metric measured over all items where the protocol's plain one is sampled.
constexpr const char* kFullPrefix = "full_";

// Lookup by name; returns fallback when absent.
double metricOr(const MetricValues& values, const std::string& name, double fallback);

// Ranks are 0-based positions of the held-out item among its candidates (0 = top).
double hitRateAtK(const std::vector<int64_t>& ranks, int k);
double ndcgAtK(const std::vector<int64_t>& ranks, int k); // one relevant item: 1/log2(rank+2)

// Mean reciprocal rank cut at K for one relevant item per user: 1/(rank+1) when rank < K.
double mrrAtK(const std::vector<int64_t>& ranks, int k);

// Where one user's relevant (held-out) items landed in a ranking: their 0-based ranks among
// the candidates, and how many relevant items the user has (an item that was never ranked
// still counts here).
struct UserRanking {
    std::vector<int64_t> relevantRanks;
    int64_t relevantCount = 0;
};

// Top-K metrics over users, each averaged over users with at least one relevant item (RecBole's
// definitions): hit = any relevant item in the top K; precision = hits / K; recall = hits /
// relevant; NDCG = DCG / ideal DCG with binary gains 1/log2(rank+2); MRR = 1/(first hit rank+1);
// MAP = sum over hits of precision at that hit / min(relevant, K).
struct TopKMetrics {
    double hit = 0, precision = 0, recall = 0, ndcg = 0, mrr = 0, map = 0;
    size_t users = 0;
};
TopKMetrics topKMetrics(const std::vector<UserRanking>& users, int k);
// One user's terms of those means (users = 1, or 0 without relevant items).
TopKMetrics userTopK(const UserRanking& user, int k);
// Per user: hr, ndcg and mrr at k, and with allMeasures recall, precision and map too.
// rankings[i] belongs to users[i]; a user may appear once.
UserMetrics userTopKMetrics(const std::vector<int32_t>& users, const std::vector<UserRanking>& rankings, int k,
                            bool allMeasures);
// Per user over the user's rows: rmse and mae of predictions against truth.
UserMetrics userErrorMetrics(const std::vector<int32_t>& users, const std::vector<float>& predicted,
                             const std::vector<float>& truth);
// Per user over the user's samples: auc (NaN with one class) and logloss.
UserMetrics userClickMetrics(const std::vector<int32_t>& users, const std::vector<float>& probabilities,
                             const std::vector<float>& labels);

// Area under the ROC curve of scores against 0/1 labels: the share of (positive, negative)
// pairs ordered correctly, ties counting one half. NaN when the labels hold only one class.
double areaUnderCurve(const std::vector<float>& scores, const std::vector<float>& labels);
// GAUC as DIN defines it: each user's AUC weighted by the user's number of samples
// (impressions); users whose samples are all of one class are left out. NaN when none is left.
double groupAreaUnderCurve(const std::vector<int32_t>& users, const std::vector<float>& scores,
                           const std::vector<float>& labels);
// Mean binary cross-entropy of probabilities against 0/1 labels, probabilities clipped to
// [eps, 1 - eps].
double logLoss(const std::vector<float>& probabilities, const std::vector<float>& labels, double eps = 1e-7);

// Share of all items that appear in at least one user's top K.
double itemCoverageAtK(const std::vector<std::vector<int32_t>>& topLists, int32_t numItems, int k);
// Mean over users of the mean popularity (training interactions) of their top-K items.
double averagePopularityAtK(const std::vector<std::vector<int32_t>>& topLists, const std::vector<int64_t>& itemCounts,
                            int k);

double rootMeanSquaredError(const std::vector<float>& predicted, const std::vector<float>& truth);
double meanAbsoluteError(const std::vector<float>& predicted, const std::vector<float>& truth);

} // namespace reclab
