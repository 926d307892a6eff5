#include "data/DatasetSummary.h"
#include "util/Words.h"

#include "data/FieldParsers.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <numeric>

namespace reclab {

int64_t monthStart(int64_t t)
{
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm), then the 1st.
    const int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    const int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
    return daysFromCivil(y, m, 1) * 86400;
}

DatasetSummary summarize(const Dataset& ds)
{
    DatasetSummary s;
    s.stats = computeStats(ds);
    s.warnings = ds.report.warnings;
    const InteractionTable& t = ds.interactions;
    std::map<float, size_t> ratings;
    std::vector<int32_t> perUser(static_cast<size_t>(ds.numUsers())), perItem(static_cast<size_t>(ds.numItems()));
    std::map<int64_t, size_t> months;
    int64_t currentMonth = INT64_MIN, monthEnd = INT64_MIN;
    size_t* monthCount = nullptr;
    for (size_t r = 0; r < t.size(); ++r) {
        ++ratings[t.rating[r]];
        ++perUser[static_cast<size_t>(t.user[r])];
        ++perItem[static_cast<size_t>(t.item[r])];
        const int64_t time = t.timestamp[r];
        if (time < currentMonth || time >= monthEnd) { // most files are grouped by time or user
            currentMonth = monthStart(time);
            monthEnd = monthStart(currentMonth + 32 * 86400);
            monthCount = &months[currentMonth];
        }
        ++*monthCount;
    }
    s.ratingHistogram.assign(ratings.begin(), ratings.end());
    s.itemPopularity = perItem;
    std::sort(s.itemPopularity.begin(), s.itemPopularity.end(), std::greater<>());
    while (!s.itemPopularity.empty() && s.itemPopularity.back() == 0)
        s.itemPopularity.pop_back();
    std::map<int32_t, int32_t> activity;
    for (const int32_t c : perUser)
        if (c > 0)
            ++activity[c];
    s.userActivity.assign(activity.begin(), activity.end());
    s.perMonth.assign(months.begin(), months.end());
    return s;
}

namespace {

int32_t indexOfId(const std::vector<std::string>& ids, const std::string& id)
{
    const auto it = std::find(ids.begin(), ids.end(), id);
    return it == ids.end() ? -2 : static_cast<int32_t>(it - ids.begin());
}

} // namespace

std::optional<std::vector<uint32_t>> selectRows(const Dataset& ds, const RowFilter& f, RowOrder order, bool descending,
                                                const std::atomic<bool>* cancel)
{
    const InteractionTable& t = ds.interactions;
    const int32_t user = f.user.empty() ? -1 : indexOfId(ds.userIds, f.user);
    const int32_t item = f.item.empty() ? -1 : indexOfId(ds.itemIds, f.item);
    std::vector<char> titleMatch;
    if (!f.title.empty()) {
        const std::string needle = lowerAscii(f.title);
        titleMatch.assign(static_cast<size_t>(ds.numItems()), 0);
        for (size_t i = 0; i < ds.items.title.size(); ++i)
            titleMatch[i] = lowerAscii(ds.items.title[i]).find(needle) != std::string::npos;
    }
    std::vector<uint32_t> rows;
    if (f.empty()) {
        rows.resize(t.size());
        std::iota(rows.begin(), rows.end(), 0u);
    } else {
        for (size_t r = 0; r < t.size(); ++r) {
            if ((r & 0xFFFFF) == 0 && cancel && cancel->load())
                return std::nullopt;
            if (user != -1 && t.user[r] != user)
                continue;
            if (item != -1 && t.item[r] != item)
                continue;
            if ((f.minRating && t.rating[r] < *f.minRating) || (f.maxRating && t.rating[r] > *f.maxRating))
                continue;
            if ((f.from && t.timestamp[r] < *f.from) || (f.to && t.timestamp[r] >= *f.to))
                continue;
            if (!titleMatch.empty() && !titleMatch[static_cast<size_t>(t.item[r])])
                continue;
            rows.push_back(static_cast<uint32_t>(r));
        }
    }
    if (cancel && cancel->load())
        return std::nullopt;
    auto sortBy = [&](auto key) {
        if (descending)
            std::stable_sort(rows.begin(), rows.end(), [&](uint32_t a, uint32_t b) { return key(b) < key(a); });
        else
            std::stable_sort(rows.begin(), rows.end(), [&](uint32_t a, uint32_t b) { return key(a) < key(b); });
    };
    switch (order) {
    case RowOrder::File:
        if (descending)
            std::reverse(rows.begin(), rows.end());
        break;
    case RowOrder::User: sortBy([&](uint32_t r) { return t.user[r]; }); break;
    case RowOrder::Item: sortBy([&](uint32_t r) { return t.item[r]; }); break;
    case RowOrder::Rating: sortBy([&](uint32_t r) { return t.rating[r]; }); break;
    case RowOrder::Time: sortBy([&](uint32_t r) { return t.timestamp[r]; }); break;
    case RowOrder::Title: {
        // Rank items by title once, then sort rows by the rank.
        std::vector<int32_t> byTitle(static_cast<size_t>(ds.numItems()));
        std::iota(byTitle.begin(), byTitle.end(), 0);
        if (!ds.items.title.empty())
            std::stable_sort(byTitle.begin(), byTitle.end(), [&](int32_t a, int32_t b) {
                return ds.items.title[static_cast<size_t>(a)] < ds.items.title[static_cast<size_t>(b)];
            });
        std::vector<int32_t> rank(byTitle.size());
        for (size_t k = 0; k < byTitle.size(); ++k)
            rank[static_cast<size_t>(byTitle[k])] = static_cast<int32_t>(k);
        sortBy([&](uint32_t r) { return rank[static_cast<size_t>(t.item[r])]; });
        break;
    }
    }
    if (cancel && cancel->load())
        return std::nullopt;
    return rows;
}

std::vector<uint32_t> userHistory(const Dataset& ds, int32_t user)
{
    std::vector<uint32_t> rows;
    const InteractionTable& t = ds.interactions;
    for (size_t r = 0; r < t.size(); ++r)
        if (t.user[r] == user)
            rows.push_back(static_cast<uint32_t>(r));
    std::stable_sort(rows.begin(), rows.end(), [&](uint32_t a, uint32_t b) { return t.timestamp[a] < t.timestamp[b]; });
    return rows;
}

} // namespace reclab
