#include "data/Preparation.h"

#include "data/RowGroups.h"
#include "data/UserItemIndex.h"
#include "util/Error.h"
#include "util/Random.h"
#include "util/TextFile.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace reclab {

bool FilterConfig::empty() const
{
    return !removeDuplicates && !ratingThreshold && userCore <= 1 && itemCore <= 1 && !timeFrom && !timeTo;
}

std::string FilterConfig::describe() const
{
    std::string s;
    auto add = [&](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
    if (removeDuplicates)
        add("duplicates removed");
    if (ratingThreshold) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "rating >= %g as implicit", static_cast<double>(*ratingThreshold));
        add(buf);
    }
    if (userCore > 1 || itemCore > 1)
        add(userCore == itemCore ? std::to_string(userCore) + "-core"
                                 : "user " + std::to_string(userCore) + "-core, item " + std::to_string(itemCore) + "-core");
    if (timeFrom || timeTo)
        add("time window");
    return s.empty() ? "no filters" : s;
}

DatasetCounts countsOf(const Dataset& dataset)
{
    DatasetCounts c;
    c.interactions = dataset.interactions.size();
    std::vector<char> u(static_cast<size_t>(dataset.numUsers())), i(static_cast<size_t>(dataset.numItems()));
    for (size_t r = 0; r < c.interactions; ++r) {
        u[static_cast<size_t>(dataset.interactions.user[r])] = 1;
        i[static_cast<size_t>(dataset.interactions.item[r])] = 1;
    }
    c.users = static_cast<int32_t>(std::count(u.begin(), u.end(), 1));
    c.items = static_cast<int32_t>(std::count(i.begin(), i.end(), 1));
    return c;
}

namespace {

// Rows grouped by user (a counting sort; file order inside each user).
template <typename T> std::vector<T> remapped(const std::vector<T>& v, const std::vector<int32_t>& oldOf)
{
    if (v.empty())
        return {};
    std::vector<T> out;
    out.reserve(oldOf.size());
    for (const int32_t o : oldOf)
        out.push_back(v[static_cast<size_t>(o)]);
    return out;
}

} // namespace

Dataset keepRows(const Dataset& source, const std::vector<char>& keep, bool byFirstUse)
{
    const InteractionTable& t = source.interactions;
    std::vector<int32_t> newUser(static_cast<size_t>(source.numUsers()), -1);
    std::vector<int32_t> newItem(static_cast<size_t>(source.numItems()), -1);
    std::vector<int32_t> userOf, itemOf; // old index of each new one
    size_t kept = 0;
    for (size_t r = 0; r < t.size(); ++r)
        if (keep[r]) {
            newUser[static_cast<size_t>(t.user[r])] = 0;
            newItem[static_cast<size_t>(t.item[r])] = 0;
            ++kept;
        }
    if (byFirstUse) {
        std::vector<uint32_t> order;
        order.reserve(kept);
        for (size_t r = 0; r < t.size(); ++r)
            if (keep[r])
                order.push_back(static_cast<uint32_t>(r));
        std::stable_sort(order.begin(), order.end(),
                         [&](uint32_t a, uint32_t b) { return t.timestamp[a] < t.timestamp[b]; });
        for (const uint32_t r : order) {
            if (int32_t& u = newUser[static_cast<size_t>(t.user[r])]; u == 0) {
                u = -2; // numbered below, in this order
                userOf.push_back(t.user[r]);
            }
            if (int32_t& i = newItem[static_cast<size_t>(t.item[r])]; i == 0) {
                i = -2;
                itemOf.push_back(t.item[r]);
            }
        }
        for (size_t k = 0; k < userOf.size(); ++k)
            newUser[static_cast<size_t>(userOf[k])] = static_cast<int32_t>(k);
        for (size_t k = 0; k < itemOf.size(); ++k)
            newItem[static_cast<size_t>(itemOf[k])] = static_cast<int32_t>(k);
    }
    for (size_t u = 0; u < newUser.size() && !byFirstUse; ++u)
        if (newUser[u] == 0) {
            newUser[u] = static_cast<int32_t>(userOf.size());
            userOf.push_back(static_cast<int32_t>(u));
        }
    for (size_t i = 0; i < newItem.size() && !byFirstUse; ++i)
        if (newItem[i] == 0) {
            newItem[i] = static_cast<int32_t>(itemOf.size());
            itemOf.push_back(static_cast<int32_t>(i));
        }
    Dataset out;
    out.name = source.name;
    out.source = source.source;
    out.genreNames = source.genreNames;
    out.report = source.report;
    out.userIds = remapped(source.userIds, userOf);
    out.itemIds = remapped(source.itemIds, itemOf);
    out.interactions.reserve(kept);
    for (size_t r = 0; r < t.size(); ++r)
        if (keep[r])
            out.interactions.append(newUser[static_cast<size_t>(t.user[r])], newItem[static_cast<size_t>(t.item[r])],
                                    t.rating[r], t.timestamp[r]);
    out.items.title = remapped(source.items.title, itemOf);
    out.items.year = remapped(source.items.year, itemOf);
    out.items.tags = remapped(source.items.tags, itemOf);
    if (source.items.hasGenres())
        for (const int32_t o : itemOf) {
            const auto first = source.items.genreList.begin() + source.items.genreStart[static_cast<size_t>(o)];
            const auto last = source.items.genreList.begin() + source.items.genreStart[static_cast<size_t>(o) + 1];
            out.items.appendGenres(std::vector<int32_t>(first, last));
        }
    for (size_t r = 0; r < source.reviews.size(); ++r) {
        const int32_t u = newUser[static_cast<size_t>(source.reviews.user[r])];
        const int32_t i = newItem[static_cast<size_t>(source.reviews.item[r])];
        if (u >= 0 && i >= 0)
            out.reviews.append(u, i, source.reviews.text[r]);
    }
    out.users.age = remapped(source.users.age, userOf);
    out.users.gender = remapped(source.users.gender, userOf);
    out.users.occupation = remapped(source.users.occupation, userOf);
    out.users.zip = remapped(source.users.zip, userOf);
    return out;
}

Dataset applyFilters(const Dataset& source, const FilterConfig& f, FilterSummary* summary)
{
    const InteractionTable& t = source.interactions;
    const size_t n = t.size();
    FilterSummary s;
    s.before = countsOf(source);
    if (f.userCore < 0 || f.itemCore < 0)
        throw ConfigError("kcore", "expected a non-negative number of interactions");
    if (f.timeFrom && f.timeTo && *f.timeFrom >= *f.timeTo)
        throw ConfigError("time window", "the start must come before the end");
    std::vector<char> keep(n, 1);
    if (f.timeFrom || f.timeTo)
        for (size_t r = 0; r < n; ++r)
            if ((f.timeFrom && t.timestamp[r] < *f.timeFrom) || (f.timeTo && t.timestamp[r] >= *f.timeTo)) {
                keep[r] = 0;
                ++s.outsideWindow;
            }
    if (f.ratingThreshold)
        for (size_t r = 0; r < n; ++r)
            if (keep[r] && t.rating[r] < *f.ratingThreshold) {
                keep[r] = 0;
                ++s.belowThreshold;
            }
    if (f.removeDuplicates) {
        RowGroups byUser(t.user, static_cast<size_t>(source.numUsers()), &keep);
        for (size_t u = 0; u < byUser.groups(); ++u) {
            // Latest row of each item wins; among equal times the later row.
            std::sort(byUser.begin(u), byUser.end(u), [&](uint32_t a, uint32_t b) {
                if (t.item[a] != t.item[b])
                    return t.item[a] < t.item[b];
                if (t.timestamp[a] != t.timestamp[b])
                    return t.timestamp[a] < t.timestamp[b];
                return a < b;
            });
            for (uint32_t* p = byUser.begin(u); p + 1 < byUser.end(u); ++p)
                if (t.item[p[0]] == t.item[p[1]]) {
                    keep[p[0]] = 0;
                    ++s.duplicates;
                }
        }
    }
    if (f.userCore > 1 || f.itemCore > 1) {
        std::vector<int32_t> userCount(static_cast<size_t>(source.numUsers())), itemCount(static_cast<size_t>(source.numItems()));
        while (true) {
            std::fill(userCount.begin(), userCount.end(), 0);
            std::fill(itemCount.begin(), itemCount.end(), 0);
            for (size_t r = 0; r < n; ++r)
                if (keep[r]) {
                    ++userCount[static_cast<size_t>(t.user[r])];
                    ++itemCount[static_cast<size_t>(t.item[r])];
                }
            ++s.kcoreRounds;
            bool changed = false;
            for (size_t r = 0; r < n; ++r)
                if (keep[r] && (userCount[static_cast<size_t>(t.user[r])] < f.userCore ||
                                itemCount[static_cast<size_t>(t.item[r])] < f.itemCore)) {
                    keep[r] = 0;
                    changed = true;
                }
            if (!changed)
                break;
        }
    }
    Dataset out = keepRows(source, keep);
    if (f.ratingThreshold)
        std::fill(out.interactions.rating.begin(), out.interactions.rating.end(), 1.f);
    s.after = countsOf(out);
    if (summary)
        *summary = s;
    return out;
}

std::string SplitConfig::describe() const
{
    char buf[128];
    switch (kind) {
    case SplitKind::LeaveOneOut: return looValidation ? "leave-one-out (validation + test item per user)" : "leave-one-out (test item per user)";
    case SplitKind::Ratio: std::snprintf(buf, sizeof buf, "random %g/%g/%g", train, valid, test); return buf;
    case SplitKind::Temporal: std::snprintf(buf, sizeof buf, "temporal %g/%g/%g", train, valid, test); return buf;
    case SplitKind::ByUser: std::snprintf(buf, sizeof buf, "by user %g/%g/%g", train, valid, test); return buf;
    }
    return "";
}

SplitConfig parseSplitSpec(const std::string& spec)
{
    SplitConfig c;
    const size_t colon = spec.find(':');
    const std::string kind = spec.substr(0, colon);
    const std::string args = colon == std::string::npos ? "" : spec.substr(colon + 1);
    if (kind == "loo") {
        c.kind = SplitKind::LeaveOneOut;
        if (args == "test")
            c.looValidation = false;
        else if (!args.empty() && args != "valid")
            throw ConfigError("split", "expected loo, loo:test (no validation item) or loo:valid");
        return c;
    }
    if (kind == "ratio")
        c.kind = SplitKind::Ratio;
    else if (kind == "temporal")
        c.kind = SplitKind::Temporal;
    else if (kind == "by-user")
        c.kind = SplitKind::ByUser;
    else
        throw ConfigError("split", "unknown split '" + spec + "'; expected loo, ratio:8,1,1, temporal:0.8 or by-user:0.8");
    std::vector<double> parts;
    std::vector<std::string_view> fields;
    splitFields(args, ",", fields);
    for (const auto& field : fields) {
        double v = 0;
        if (!parseDouble(field, v) || v < 0)
            throw ConfigError("split", "'" + spec + "': expected non-negative numbers such as 8,1,1 or 0.8");
        parts.push_back(v);
    }
    if (args.empty() || parts.size() > 3)
        throw ConfigError("split", "'" + spec + "': expected one fraction (0.8) or two or three ratios (8,1,1)");
    if (parts.size() == 1) {
        if (!(parts[0] > 0 && parts[0] < 1))
            throw ConfigError("split", "'" + spec + "': a single fraction must lie between 0 and 1");
        parts.push_back(1 - parts[0]);
    }
    if (parts.size() == 2)
        parts.insert(parts.begin() + 1, 0.0);
    const double total = parts[0] + parts[1] + parts[2];
    if (!(parts[0] > 0) || !(parts[2] > 0))
        throw ConfigError("split", "'" + spec + "': the train and test parts must not be empty");
    c.train = parts[0] / total;
    c.valid = parts[1] / total;
    c.test = parts[2] / total;
    return c;
}

size_t SplitAssignment::count(Part p) const { return static_cast<size_t>(std::count(part.begin(), part.end(), p)); }

namespace {

// Assigns sorted positions [0, n) to train/valid/test by the fractions.
Part partAt(size_t position, size_t n, const SplitConfig& c)
{
    const auto trainEnd = static_cast<size_t>(std::llround(static_cast<double>(n) * c.train));
    const auto validEnd = static_cast<size_t>(std::llround(static_cast<double>(n) * (c.train + c.valid)));
    return position < trainEnd ? TrainPart : position < validEnd ? ValidPart : TestPart;
}

} // namespace

SplitAssignment makeSplit(const Dataset& dataset, const SplitConfig& config)
{
    const InteractionTable& t = dataset.interactions;
    const size_t n = t.size();
    SplitAssignment s;
    s.config = config;
    s.part.assign(n, TrainPart);
    Random rng(config.seed);
    switch (config.kind) {
    case SplitKind::LeaveOneOut: {
        RowGroups byUser(t.user, static_cast<size_t>(dataset.numUsers()));
        for (size_t u = 0; u < byUser.groups(); ++u) {
            uint32_t* b = byUser.begin(u);
            uint32_t* e = byUser.end(u);
            std::stable_sort(b, e, [&](uint32_t x, uint32_t y) { return t.timestamp[x] < t.timestamp[y]; });
            const auto count = e - b;
            if (count >= 2)
                s.part[e[-1]] = TestPart;
            if (count >= 3 && config.looValidation)
                s.part[e[-2]] = ValidPart;
        }
        break;
    }
    case SplitKind::Ratio: {
        std::vector<uint32_t> order(n);
        std::iota(order.begin(), order.end(), 0u);
        rng.shuffle(order.begin(), order.end());
        for (size_t k = 0; k < n; ++k)
            s.part[order[k]] = partAt(k, n, config);
        break;
    }
    case SplitKind::Temporal: {
        std::vector<uint32_t> order(n);
        std::iota(order.begin(), order.end(), 0u);
        std::stable_sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) { return t.timestamp[x] < t.timestamp[y]; });
        for (size_t k = 0; k < n; ++k)
            s.part[order[k]] = partAt(k, n, config);
        break;
    }
    case SplitKind::ByUser: {
        const auto users = static_cast<size_t>(dataset.numUsers());
        std::vector<uint32_t> order(users);
        std::iota(order.begin(), order.end(), 0u);
        rng.shuffle(order.begin(), order.end());
        std::vector<uint8_t> partOf(users);
        for (size_t k = 0; k < users; ++k)
            partOf[order[k]] = partAt(k, users, config);
        for (size_t r = 0; r < n; ++r)
            s.part[r] = partOf[static_cast<size_t>(t.user[r])];
        break;
    }
    }
    const int negatives = config.effectiveNegatives();
    if (negatives > 0) {
        for (size_t r = 0; r < n; ++r)
            if (s.part[r] != TrainPart)
                s.evalRows.push_back(static_cast<uint32_t>(r));
        if (static_cast<double>(s.evalRows.size()) * negatives > 2e8)
            throw ConfigError("negatives", std::to_string(s.evalRows.size()) + " evaluation rows x " + std::to_string(negatives) +
                                               " negatives is too many to store; use fewer negatives or a leave-one-out split");
        const UserItemIndex seen(t, dataset.numUsers());
        std::vector<int32_t> evalUsers;
        evalUsers.reserve(s.evalRows.size());
        for (const uint32_t row : s.evalRows)
            evalUsers.push_back(t.user[row]);
        int32_t fewest = 0;
        if (const int64_t most = seen.mostDistinctNegatives(evalUsers, dataset.numItems(), &fewest); negatives > most)
            throw ConfigError("negatives", std::to_string(negatives) + " negatives per evaluation row cannot all differ: user " +
                                               dataset.userIds[static_cast<size_t>(fewest)] + " has only " +
                                               std::to_string(std::max<int64_t>(most, 0)) +
                                               " items they never interacted with; the largest possible here is " +
                                               std::to_string(std::max<int64_t>(most, 0)));
        s.negatives.resize(s.evalRows.size() * static_cast<size_t>(negatives));
        for (size_t k = 0; k < s.evalRows.size(); ++k)
            seen.sampleUnseen(t.user[s.evalRows[k]], dataset.numItems(), negatives, rng,
                              s.negatives.data() + k * static_cast<size_t>(negatives));
    }
    return s;
}

} // namespace reclab
