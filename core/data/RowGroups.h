// The rows of an interaction table grouped by one of its id columns, as compressed rows: a
// counting sort, each group's rows in table order.
#pragma once

#include "util/Column.h"

#include <cstdint>
#include <numeric>
#include <vector>

namespace reclab {

struct RowGroups {
    std::vector<size_t> start; // groups + 1
    std::vector<uint32_t> rows;

    // key: the column (user or item ids in [0, groups)); keep: rows with 0 are left out.
    RowGroups(const Column<int32_t>& key, size_t groups, const std::vector<char>* keep = nullptr) : start(groups + 1, 0)
    {
        for (size_t r = 0; r < key.size(); ++r)
            if (!keep || (*keep)[r])
                ++start[static_cast<size_t>(key[r]) + 1];
        std::partial_sum(start.begin(), start.end(), start.begin());
        rows.resize(start.back());
        std::vector<size_t> next(start.begin(), start.end() - 1);
        for (size_t r = 0; r < key.size(); ++r)
            if (!keep || (*keep)[r])
                rows[next[static_cast<size_t>(key[r])]++] = static_cast<uint32_t>(r);
    }
    size_t groups() const { return start.size() - 1; }
    uint32_t* begin(size_t g) { return rows.data() + start[g]; }
    uint32_t* end(size_t g) { return rows.data() + start[g + 1]; }
};

} // namespace reclab
