// FNV-1a, 64 bits, over bytes, columns and strings: stable across platforms and fast enough for
// 25M rows. Fingerprints of datasets and of the held-out parts of a split.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace reclab {

struct Fnv1a {
    uint64_t h = 1469598103934665603ull;
    void bytes(const void* data, size_t n)
    {
        const auto* p = static_cast<const unsigned char*>(data);
        for (size_t i = 0; i < n; ++i) {
            h ^= p[i];
            h *= 1099511628211ull;
        }
    }
    // The length first, so [a][bc] and [ab][c] differ.
    template <typename V> void column(const V& v)
    {
        const uint64_t n = v.size();
        bytes(&n, sizeof n);
        bytes(v.data(), v.size() * sizeof(typename V::value_type));
    }
    void strings(const std::vector<std::string>& v)
    {
        for (const auto& s : v) {
            bytes(s.data(), s.size());
            bytes("\0", 1);
        }
    }
    std::string hex() const
    {
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
        return buf;
    }
};

} // namespace reclab
