// Shared by the benchmarks: the median of a sample (the upper one for an even count).
#pragma once

#include <algorithm>
#include <vector>

namespace reclab::bench {

inline double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace reclab::bench
