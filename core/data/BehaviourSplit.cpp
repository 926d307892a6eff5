#include "data/BehaviourSplit.h"

#include "util/Error.h"
#include "util/Random.h"

#include <algorithm>
#include <cstdint>
#include <numeric>

namespace reclab {

BehaviourSplit makeBehaviourSplit(const Dataset& dataset, const BehaviourSplitOptions& options)
{
    const InteractionTable& t = dataset.interactions;
    const int32_t numUsers = dataset.numUsers();
    if (numUsers < 2)
        throw DataError(dataset.source, 0, "user", "the DIN protocol splits users 80/20 and needs at least two users");
    if (dataset.minRating() == dataset.maxRating())
        throw DataError(dataset.source, 0, "rating",
                        "every rating is the same, so the DIN protocol's label (rating >= threshold) has one class; "
                        "it needs explicit ratings");

    // Users shuffled with the seed; the first share of them train.
    std::vector<int32_t> users(static_cast<size_t>(numUsers));
    std::iota(users.begin(), users.end(), 0);
    Random rng(options.seed);
    rng.shuffle(users.begin(), users.end());
    const auto trainUsers = std::clamp<size_t>(
        static_cast<size_t>(options.trainUserShare * numUsers + 0.5), 1, static_cast<size_t>(numUsers) - 1);
    const auto validUsers =
        std::min(trainUsers - 1, static_cast<size_t>(options.validUserShare * numUsers + 0.5));
    enum : uint8_t { Train, Valid, Test };
    std::vector<uint8_t> partOf(static_cast<size_t>(numUsers), Train);
    BehaviourSplit split;
    for (size_t k = trainUsers - validUsers; k < users.size(); ++k) {
        const bool test = k >= trainUsers;
        partOf[static_cast<size_t>(users[k])] = test ? Test : Valid;
        (test ? split.testUsers : split.validUsers).push_back(users[k]);
    }
    std::sort(split.testUsers.begin(), split.testUsers.end());
    std::sort(split.validUsers.begin(), split.validUsers.end());

    // Rows grouped by user, each user's rows in time order (stable: file order breaks ties).
    std::vector<uint32_t> rows(t.size());
    std::iota(rows.begin(), rows.end(), 0u);
    std::stable_sort(rows.begin(), rows.end(), [&](uint32_t a, uint32_t b) {
        return t.user[a] != t.user[b] ? t.user[a] < t.user[b] : t.timestamp[a] < t.timestamp[b];
    });

    const int L = options.maxHistory;
    for (BehaviourSamples* s : {&split.train, &split.valid, &split.test})
        s->maxHistory = L;
    const int32_t pad = dataset.numItems();
    size_t begin = 0;
    while (begin < rows.size()) {
        const int32_t u = t.user[rows[begin]];
        size_t end = begin;
        while (end < rows.size() && t.user[rows[end]] == u)
            ++end;
        const uint8_t part = partOf[static_cast<size_t>(u)];
        BehaviourSamples& s = part == Test ? split.test : part == Valid ? split.valid : split.train;
        for (size_t k = begin; k < end; ++k) {
            const uint32_t r = rows[k];
            s.user.push_back(u);
            s.item.push_back(t.item[r]);
            s.label.push_back(t.rating[r] >= options.positiveRating ? 1.f : 0.f);
            const size_t from = std::max(begin, k >= static_cast<size_t>(L) ? k - static_cast<size_t>(L) : size_t{0});
            s.length.push_back(static_cast<int32_t>(k - from));
            for (size_t h = from; h < k; ++h)
                s.history.push_back(t.item[rows[h]]);
            s.history.insert(s.history.end(), static_cast<size_t>(L) - (k - from), pad);
        }
        begin = end;
    }
    return split;
}

std::vector<int64_t> itemSampleCounts(const BehaviourSamples& samples, int32_t numItems)
{
    std::vector<int64_t> counts(static_cast<size_t>(numItems), 0);
    std::vector<size_t> lastSample(static_cast<size_t>(numItems), SIZE_MAX);
    auto count = [&](int32_t item, size_t sample) {
        if (lastSample[static_cast<size_t>(item)] != sample) {
            lastSample[static_cast<size_t>(item)] = sample;
            ++counts[static_cast<size_t>(item)];
        }
    };
    for (size_t r = 0; r < samples.size(); ++r) {
        count(samples.item[r], r);
        for (int32_t k = 0; k < samples.length[r]; ++k)
            count(samples.history[r * static_cast<size_t>(samples.maxHistory) + static_cast<size_t>(k)], r);
    }
    return counts;
}

} // namespace reclab
