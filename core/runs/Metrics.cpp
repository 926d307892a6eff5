#include "runs/Metrics.h"

#include "runs/Protocols.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace reclab {

std::string formatMetric(double value, int decimals)
{
    if (std::isnan(value))
        return "n/a";
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

const std::vector<MetricTraits>& metricTable()
{
    using T = TaskKind;
    static const std::vector<MetricTraits> table = {
        // name       label         task                atK    lower  accuracy allItems listed
        {"hr", "HR", T::ImplicitRanking, true, false, true, false, true},
        {"ndcg", "NDCG", T::ImplicitRanking, true, false, true, false, true},
        {"mrr", "MRR", T::ImplicitRanking, true, false, true, false, false},
        {"recall", "recall", T::ImplicitRanking, true, false, true, true, true},
        {"precision", "precision", T::ImplicitRanking, true, false, true, true, false},
        {"map", "MAP", T::ImplicitRanking, true, false, true, true, false},
        {"coverage", "coverage", T::ImplicitRanking, true, false, false, true, false},
        {"avgpop", "average popularity", T::ImplicitRanking, true, true, false, true, false},
        {"rmse", "RMSE", T::RatingPrediction, false, true, true, false, true},
        {"mae", "MAE", T::RatingPrediction, false, true, true, false, true},
        {"auc", "AUC", T::ClickThrough, false, false, true, false, true},
        {"gauc", "GAUC", T::ClickThrough, false, false, true, false, true},
        {"logloss", "LogLoss", T::ClickThrough, false, true, true, false, false},
    };
    return table;
}

const MetricTraits* metricTraits(const std::string& key)
{
    std::string name = key.rfind("val_", 0) == 0 ? key.substr(4) : key;
    if (name.rfind(kFullPrefix, 0) == 0)
        name.erase(0, std::char_traits<char>::length(kFullPrefix));
    const size_t at = name.find('@');
    const bool cut = at != std::string::npos;
    if (cut)
        name.erase(at);
    for (const auto& m : metricTable())
        if (name == m.name && cut == m.atK)
            return &m;
    return nullptr;
}

std::vector<std::string> listedMetricKeys(int topK)
{
    std::vector<std::string> keys;
    for (const auto& m : metricTable())
        if (m.listed)
            keys.push_back(m.atK ? std::string(m.name) + "@" + std::to_string(topK) : m.name);
    return keys;
}

bool lowerIsBetter(const std::string& metric)
{
    if (const MetricTraits* traits = metricTraits(metric))
        return traits->lowerIsBetter;
    // Bandit runs' regret and the seconds their policies took (rl/BanditRecords.h) too, and
    // what a run on several processes spent exchanging gradients.
    return metric == "loss" || metric == "val_loss" || metric == "regret" || metric == "policy_seconds" ||
           metric == "exchange_seconds" || metric == "exchange_bytes_per_step";
}

std::vector<std::string> commonMetricNames(TaskKind kind, int topK)
{
    const std::string at = "@" + std::to_string(topK);
    std::vector<std::string> names{"hr" + at, "ndcg" + at, "mrr" + at, "full_hr" + at, "full_ndcg" + at, "full_mrr" + at,
                                   "auc", "gauc"};
    if (kind == TaskKind::RatingPrediction) {
        names.push_back("rmse");
        names.push_back("mae");
    } else {
        names.push_back("logloss");
    }
    return names;
}

std::vector<std::string> taskMetricNames(TaskKind kind, const std::string& protocol, int topK)
{
    const ProtocolInfo* p = findProtocol(protocol);
    if (p && p->id == "cold") {
        const std::string at = "@" + std::to_string(topK);
        return {"hr" + at, "ndcg" + at, "mrr" + at, "full_hr" + at, "full_ndcg" + at, "full_mrr" + at};
    }
    if (p && p->anyTask)
        return commonMetricNames(kind, topK);
    const bool allItems = p && p->allItems;
    std::vector<std::string> names;
    for (const auto& m : metricTable())
        if (m.task == kind && (allItems || !m.allItemsOnly))
            names.push_back(m.atK ? std::string(m.name) + "@" + std::to_string(topK) : m.name);
    return names;
}

double metricOr(const MetricValues& values, const std::string& name, double fallback)
{
    for (const auto& m : values)
        if (m.name == name)
            return m.value;
    return fallback;
}

double hitRateAtK(const std::vector<int64_t>& ranks, int k)
{
    if (ranks.empty())
        return 0.0;
    size_t hits = 0;
    for (const int64_t r : ranks)
        hits += r < k ? 1 : 0;
    return static_cast<double>(hits) / static_cast<double>(ranks.size());
}

double ndcgAtK(const std::vector<int64_t>& ranks, int k)
{
    if (ranks.empty())
        return 0.0;
    double sum = 0.0;
    for (const int64_t r : ranks)
        if (r < k)
            sum += 1.0 / std::log2(static_cast<double>(r) + 2.0);
    return sum / static_cast<double>(ranks.size());
}

double mrrAtK(const std::vector<int64_t>& ranks, int k)
{
    if (ranks.empty())
        return 0.0;
    double sum = 0.0;
    for (const int64_t r : ranks)
        if (r < k)
            sum += 1.0 / (static_cast<double>(r) + 1.0);
    return sum / static_cast<double>(ranks.size());
}

TopKMetrics userTopK(const UserRanking& u, int k)
{
    TopKMetrics m;
    if (u.relevantCount <= 0)
        return m;
    m.users = 1;
    std::vector<int64_t> ranks = u.relevantRanks;
    std::sort(ranks.begin(), ranks.end());
    double dcg = 0.0, ap = 0.0;
    int64_t hits = 0;
    for (const int64_t r : ranks) {
        if (r >= k)
            break;
        ++hits;
        dcg += 1.0 / std::log2(static_cast<double>(r) + 2.0);
        ap += static_cast<double>(hits) / (static_cast<double>(r) + 1.0);
    }
    if (hits == 0)
        return m;
    double idcg = 0.0;
    const int64_t ideal = std::min<int64_t>(u.relevantCount, k);
    for (int64_t i = 0; i < ideal; ++i)
        idcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
    m.hit = 1.0;
    m.precision = static_cast<double>(hits) / k;
    m.recall = static_cast<double>(hits) / static_cast<double>(u.relevantCount);
    m.ndcg = dcg / idcg;
    m.mrr = 1.0 / (static_cast<double>(ranks.front()) + 1.0);
    m.map = ap / static_cast<double>(ideal);
    return m;
}

TopKMetrics topKMetrics(const std::vector<UserRanking>& users, int k)
{
    TopKMetrics m;
    for (const UserRanking& u : users) {
        const TopKMetrics one = userTopK(u, k);
        m.users += one.users;
        m.hit += one.hit;
        m.precision += one.precision;
        m.recall += one.recall;
        m.ndcg += one.ndcg;
        m.mrr += one.mrr;
        m.map += one.map;
    }
    if (m.users > 0) {
        const double n = static_cast<double>(m.users);
        m.hit /= n;
        m.precision /= n;
        m.recall /= n;
        m.ndcg /= n;
        m.mrr /= n;
        m.map /= n;
    }
    return m;
}

namespace {

// The row indices of each user, users ascending.
std::vector<std::pair<int32_t, std::vector<size_t>>> rowsByUser(const std::vector<int32_t>& users)
{
    std::vector<size_t> idx(users.size());
    std::iota(idx.begin(), idx.end(), size_t(0));
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return users[a] < users[b]; });
    std::vector<std::pair<int32_t, std::vector<size_t>>> out;
    for (const size_t i : idx) {
        if (out.empty() || out.back().first != users[i])
            out.push_back({users[i], {}});
        out.back().second.push_back(i);
    }
    return out;
}

UserMetrics namedColumns(const std::vector<std::string>& names, size_t users)
{
    UserMetrics out;
    for (const auto& name : names) {
        out.push_back({name, {}, {}});
        out.back().users.reserve(users);
        out.back().values.reserve(users);
    }
    return out;
}

void appendUser(UserMetrics& out, int32_t user, std::initializer_list<double> values)
{
    size_t c = 0;
    for (const double v : values) {
        out[c].users.push_back(user);
        out[c].values.push_back(v);
        if (++c == out.size())
            break;
    }
}

} // namespace

UserMetrics userTopKMetrics(const std::vector<int32_t>& users, const std::vector<UserRanking>& rankings, int k,
                            bool allMeasures)
{
    if (users.size() != rankings.size())
        throw std::invalid_argument("users and rankings differ in length");
    const std::string at = "@" + std::to_string(k);
    std::vector<std::string> names{"hr" + at, "ndcg" + at, "mrr" + at};
    if (allMeasures)
        names.insert(names.end(), {"recall" + at, "precision" + at, "map" + at});
    UserMetrics out = namedColumns(names, users.size());
    for (const auto& [user, rows] : rowsByUser(users)) {
        const UserRanking& ranking = rankings[rows.front()];
        if (ranking.relevantCount <= 0)
            continue;
        const TopKMetrics m = userTopK(ranking, k);
        appendUser(out, user, {m.hit, m.ndcg, m.mrr, m.recall, m.precision, m.map});
    }
    return out;
}

UserMetrics userErrorMetrics(const std::vector<int32_t>& users, const std::vector<float>& predicted,
                             const std::vector<float>& truth)
{
    if (users.size() != predicted.size() || users.size() != truth.size())
        throw std::invalid_argument("users, predictions and truth differ in length");
    UserMetrics out = namedColumns({"rmse", "mae"}, users.size());
    for (const auto& [user, rows] : rowsByUser(users)) {
        double squared = 0, absolute = 0;
        for (const size_t r : rows) {
            const double e = static_cast<double>(predicted[r]) - static_cast<double>(truth[r]);
            squared += e * e;
            absolute += std::abs(e);
        }
        const double n = static_cast<double>(rows.size());
        appendUser(out, user, {std::sqrt(squared / n), absolute / n});
    }
    return out;
}

UserMetrics userClickMetrics(const std::vector<int32_t>& users, const std::vector<float>& probabilities,
                             const std::vector<float>& labels)
{
    if (users.size() != probabilities.size() || users.size() != labels.size())
        throw std::invalid_argument("users, probabilities and labels differ in length");
    UserMetrics out = namedColumns({"auc", "logloss"}, users.size());
    std::vector<float> p, l;
    for (const auto& [user, rows] : rowsByUser(users)) {
        p.clear();
        l.clear();
        for (const size_t r : rows) {
            p.push_back(probabilities[r]);
            l.push_back(labels[r]);
        }
        appendUser(out, user, {areaUnderCurve(p, l), logLoss(p, l)});
    }
    return out;
}

namespace {

// Scores (or predictions) and labels (or truth) pair up one to one.
void checkSizes(size_t a, size_t b)
{
    if (a != b)
        throw std::invalid_argument("predictions and labels differ in length");
}

// AUC of the samples idx[begin, end) (Mann-Whitney U with average ranks for ties).
double aucOf(const std::vector<float>& scores, const std::vector<float>& labels, std::vector<size_t>& idx, size_t begin,
             size_t end)
{
    std::sort(idx.begin() + static_cast<std::ptrdiff_t>(begin), idx.begin() + static_cast<std::ptrdiff_t>(end),
              [&](size_t a, size_t b) { return scores[a] < scores[b]; });
    double positives = 0, negatives = 0, rankSum = 0;
    for (size_t i = begin; i < end;) {
        size_t j = i;
        while (j < end && scores[idx[j]] == scores[idx[i]])
            ++j;
        const double averageRank = (static_cast<double>(i - begin) + static_cast<double>(j - begin) + 1.0) / 2.0;
        for (size_t t = i; t < j; ++t) {
            if (labels[idx[t]] > 0.5f) {
                positives += 1;
                rankSum += averageRank;
            } else {
                negatives += 1;
            }
        }
        i = j;
    }
    if (positives == 0 || negatives == 0)
        return std::numeric_limits<double>::quiet_NaN();
    return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
}

} // namespace

double areaUnderCurve(const std::vector<float>& scores, const std::vector<float>& labels)
{
    checkSizes(scores.size(), labels.size());
    std::vector<size_t> idx(scores.size());
    std::iota(idx.begin(), idx.end(), size_t(0));
    return aucOf(scores, labels, idx, 0, idx.size());
}

double groupAreaUnderCurve(const std::vector<int32_t>& users, const std::vector<float>& scores,
                           const std::vector<float>& labels)
{
    checkSizes(scores.size(), labels.size());
    checkSizes(users.size(), labels.size());
    std::vector<size_t> idx(scores.size());
    std::iota(idx.begin(), idx.end(), size_t(0));
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return users[a] < users[b]; });
    double weighted = 0, weights = 0;
    for (size_t i = 0; i < idx.size();) {
        size_t j = i;
        while (j < idx.size() && users[idx[j]] == users[idx[i]])
            ++j;
        const double auc = aucOf(scores, labels, idx, i, j);
        if (!std::isnan(auc)) {
            weighted += auc * static_cast<double>(j - i);
            weights += static_cast<double>(j - i);
        }
        i = j;
    }
    return weights > 0 ? weighted / weights : std::numeric_limits<double>::quiet_NaN();
}

double logLoss(const std::vector<float>& probabilities, const std::vector<float>& labels, double eps)
{
    checkSizes(probabilities.size(), labels.size());
    if (labels.empty())
        return std::numeric_limits<double>::quiet_NaN();
    double sum = 0;
    for (size_t i = 0; i < labels.size(); ++i) {
        const double p = std::clamp(static_cast<double>(probabilities[i]), eps, 1.0 - eps);
        sum -= labels[i] > 0.5f ? std::log(p) : std::log(1.0 - p);
    }
    return sum / static_cast<double>(labels.size());
}

double itemCoverageAtK(const std::vector<std::vector<int32_t>>& topLists, int32_t numItems, int k)
{
    if (numItems <= 0)
        return 0.0;
    std::vector<char> shown(static_cast<size_t>(numItems), 0);
    size_t count = 0;
    for (const auto& list : topLists)
        for (size_t i = 0; i < list.size() && i < static_cast<size_t>(k); ++i) {
            char& s = shown[static_cast<size_t>(list[i])];
            count += s ? 0 : 1;
            s = 1;
        }
    return static_cast<double>(count) / numItems;
}

double averagePopularityAtK(const std::vector<std::vector<int32_t>>& topLists, const std::vector<int64_t>& itemCounts,
                            int k)
{
    double sum = 0;
    size_t users = 0;
    for (const auto& list : topLists) {
        const size_t n = std::min(list.size(), static_cast<size_t>(k));
        if (n == 0)
            continue;
        double userSum = 0;
        for (size_t i = 0; i < n; ++i)
            userSum += static_cast<double>(itemCounts[static_cast<size_t>(list[i])]);
        sum += userSum / static_cast<double>(n);
        ++users;
    }
    return users ? sum / static_cast<double>(users) : 0.0;
}

double rootMeanSquaredError(const std::vector<float>& predicted, const std::vector<float>& truth)
{
    checkSizes(predicted.size(), truth.size());
    if (truth.empty())
        return std::numeric_limits<double>::quiet_NaN(); // undefined (n/a), never 0
    double sum = 0.0;
    for (size_t i = 0; i < truth.size(); ++i) {
        const double d = static_cast<double>(predicted[i]) - truth[i];
        sum += d * d;
    }
    return std::sqrt(sum / static_cast<double>(truth.size()));
}

double meanAbsoluteError(const std::vector<float>& predicted, const std::vector<float>& truth)
{
    checkSizes(predicted.size(), truth.size());
    if (truth.empty())
        return std::numeric_limits<double>::quiet_NaN(); // undefined (n/a), never 0
    double sum = 0.0;
    for (size_t i = 0; i < truth.size(); ++i)
        sum += std::fabs(static_cast<double>(predicted[i]) - truth[i]);
    return sum / static_cast<double>(truth.size());
}

} // namespace reclab
