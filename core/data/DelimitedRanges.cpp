// The byte ranges the delimited parser splits a file into, their line counts (counted, or
// estimated for the last), and the mapping of the parsed raw ids to dense indices.
#include "data/DelimitedParts.h"

#include "util/VectorClones.h"

#include <cstring>

namespace reclab::delimited {

std::vector<Range> splitRanges(const InputFile& file, size_t dataStart, int threads)
{
    const size_t size = file.size();
    std::vector<size_t> cuts{dataStart};
    const size_t bytes = size - dataStart;
    const int n = bytes < (size_t{8} << 20) ? 1 : threads;
    for (int k = 1; k < n; ++k) {
        size_t pos = dataStart + bytes / static_cast<size_t>(n) * static_cast<size_t>(k);
        char buf[4096];
        while (pos < size) {
            const size_t got = file.read(buf, sizeof buf, pos);
            const void* nl = std::memchr(buf, '\n', got);
            if (nl) {
                pos += static_cast<size_t>(static_cast<const char*>(nl) - buf) + 1;
                break;
            }
            pos += got;
        }
        if (pos > cuts.back() && pos < size)
            cuts.push_back(pos);
    }
    cuts.push_back(size);
    std::vector<Range> ranges(cuts.size() - 1);
    for (size_t k = 0; k + 1 < cuts.size(); ++k) {
        ranges[k].begin = cuts[k];
        ranges[k].end = cuts[k + 1];
    }
    return ranges;
}

namespace {

// Newlines in [p, p + n): bytes compared 32 at a time into byte counters, emptied before they
// can overflow (GCC vectorises the inner loop; an AVX2 copy where the CPU has it).
RECLAB_CLONES_FOR("avx2") size_t newlinesIn(const char* p, size_t n)
{
    size_t total = 0;
    while (n > 0) {
        const size_t m = std::min<size_t>(n, 255 * 32);
        uint8_t lanes[32] = {};
        size_t i = 0;
        for (; i + 32 <= m; i += 32)
            for (int k = 0; k < 32; ++k)
                lanes[k] = static_cast<uint8_t>(lanes[k] + (p[i + static_cast<size_t>(k)] == '\n'));
        for (const uint8_t c : lanes)
            total += c;
        for (; i < m; ++i)
            total += p[i] == '\n';
        p += m;
        n -= m;
    }
    return total;
}

} // namespace

void countNewlines(const InputFile& file, std::vector<Range>& ranges, size_t counted, int threads)
{
    // The counted ranges cut into `threads` equal pieces and at their own bounds, so that a
    // single counted range still takes every thread.
    struct Piece {
        size_t begin, end, range, count = 0;
    };
    std::vector<Piece> pieces;
    if (counted == 0)
        return;
    const size_t begin = ranges.front().begin, end = ranges[counted - 1].end;
    const size_t step =
        std::max<size_t>(1, (end - begin + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads));
    for (size_t r = 0; r < counted; ++r)
        for (size_t b = ranges[r].begin; b < ranges[r].end;) {
            const size_t cut = std::min(ranges[r].end, begin + ((b - begin) / step + 1) * step);
            pieces.push_back({b, cut, r});
            b = cut;
        }
    std::vector<int> workers(std::min(pieces.size(), static_cast<size_t>(std::max(1, threads))));
    std::atomic<size_t> nextPiece{0};
    forEachRange(workers, [&](int) {
        for (size_t k; (k = nextPiece.fetch_add(1)) < pieces.size();)
            pieces[k].count = countNewlines(file, pieces[k].begin, pieces[k].end);
    });
    for (size_t r = 0; r < counted; ++r)
        ranges[r].newlines = 0;
    for (const auto& piece : pieces)
        ranges[piece.range].newlines += piece.count;
}

size_t estimateNewlines(const InputFile& file, size_t begin, size_t end)
{
    constexpr size_t kSamples = 64, kSample = 4096;
    const size_t bytes = end - begin;
    if (bytes <= kSamples * kSample)
        return countNewlines(file, begin, end);
    char buf[kSample];
    size_t newlines = 0, sampled = 0;
    for (size_t k = 0; k < kSamples; ++k) {
        const size_t at = begin + (bytes - kSample) / (kSamples - 1) * k;
        const size_t got = file.read(buf, kSample, at);
        newlines += newlinesIn(buf, got);
        sampled += got;
    }
    return sampled == 0 ? 0
                        : static_cast<size_t>(static_cast<double>(newlines) / static_cast<double>(sampled) *
                                              static_cast<double>(bytes));
}

size_t countNewlines(const InputFile& file, size_t begin, size_t end)
{
    std::vector<char> buf(kReadBlock); // read in blocks that stay in a core's cache
    size_t count = 0;
    for (size_t pos = begin; pos < end;) {
        const size_t got = file.read(buf.data(), std::min(buf.size(), end - pos), pos);
        if (got == 0)
            break;
        count += newlinesIn(buf.data(), got);
        pos += got;
    }
    return count;
}

// Numeric ids: dense indices in ascending id order, by a direct table when the ids are compact
// (from the ranges' marks when they have them all) and a hash map otherwise.
void mapNumericIds(Column<int32_t>& column, std::vector<std::string>& names, const std::vector<Range>& ranges, int role)
{
    if (column.empty())
        return;
    bool marked = true;
    size_t span = 0;
    for (const auto& r : ranges) {
        marked = marked && r.seenAll[role];
        span = std::max(span, r.seen[role].size());
    }
    std::vector<int32_t> index;
    const auto compact = [&](size_t ids) { return ids <= std::max<size_t>(column.size() * 4, size_t{1} << 22); };
    if (marked && compact(span)) {
        index.assign(span, -1);
        for (const auto& r : ranges)
            for (size_t id = 0; id < r.seen[role].size(); ++id)
                if (r.seen[role][id])
                    index[id] = 0;
    } else {
        span = static_cast<size_t>(*std::max_element(column.begin(), column.end())) + 1;
        if (compact(span)) {
            index.assign(span, -1);
            for (const int32_t id : column)
                index[static_cast<size_t>(id)] = 0;
        }
    }
    if (!index.empty()) {
        int32_t next = 0;
        for (size_t id = 0; id < span; ++id)
            if (index[id] == 0) {
                index[id] = next++;
                names.push_back(std::to_string(id));
            }
        for (int32_t& v : column)
            v = index[static_cast<size_t>(v)];
        return;
    }
    std::unordered_map<int32_t, int32_t> map;
    for (const int32_t id : column)
        map.emplace(id, 0);
    std::vector<int32_t> ids;
    ids.reserve(map.size());
    for (const auto& kv : map)
        ids.push_back(kv.first);
    std::sort(ids.begin(), ids.end());
    for (size_t k = 0; k < ids.size(); ++k) {
        map[ids[k]] = static_cast<int32_t>(k);
        names.push_back(std::to_string(ids[k]));
    }
    for (int32_t& v : column)
        v = map[v];
}

// Text ids: per-range dictionaries merged in file order (first appearance decides the index).
void mapTextIds(std::vector<Range>& ranges, int role, Column<int32_t>& column, std::vector<std::string>& names)
{
    std::unordered_map<std::string_view, int32_t> global;
    for (auto& r : ranges) {
        const auto& local = r.dict[role].names;
        std::vector<int32_t> translate(local.size());
        for (size_t k = 0; k < local.size(); ++k) {
            const auto [it, added] = global.emplace(local[k], static_cast<int32_t>(names.size()));
            if (added)
                names.emplace_back(local[k]);
            translate[k] = it->second;
        }
        for (size_t row = r.firstRow; row < r.firstRow + r.rows; ++row)
            column[row] = translate[static_cast<size_t>(column[row])];
    }
}

} // namespace reclab::delimited
