// Writes a file shaped like MovieLens-25M's ratings.csv for the loader benchmark:
// "userId,movieId,rating,timestamp" with a header, users in ascending order each with a
// log-normal number of ratings (at least 20), movies drawn by a Zipf-like popularity from
// 59,047 ids spread over 1..209171, half-star ratings, timestamps 1995-2019 rising per user.
// Usage: reclab-bench-gen-ml25m OUT.csv [ROWS] [SEED] [MOVIES] [MAX_ID]
// ML-20M's shape: ROWS 20000263, MOVIES 26744, MAX_ID 131262 (about 129k users).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

char* writeUInt(char* p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s OUT.csv [ROWS] [SEED] [MOVIES] [MAX_ID]\n", argv[0]);
        return 2;
    }
    const uint64_t rows = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 25000095ull;
    const uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 25;
    const int movies = argc > 4 ? std::atoi(argv[4]) : 59047;
    const uint32_t maxId = argc > 5 ? static_cast<uint32_t>(std::strtoul(argv[5], nullptr, 10)) : 209171u;
    if (movies < 1 || maxId < static_cast<uint32_t>(movies)) {
        std::fprintf(stderr, "%s: need 1 <= MOVIES <= MAX_ID\n", argv[0]);
        return 2;
    }
    std::FILE* out = std::fopen(argv[1], "wb");
    if (!out) {
        std::perror(argv[1]);
        return 1;
    }
    std::mt19937_64 rng(seed);

    // Movie ids: MOVIES distinct values in 1..MAX_ID, popularity ~ 1 / (rank + 20)^1.1.
    std::vector<uint32_t> ids(maxId);
    for (uint32_t k = 0; k < ids.size(); ++k)
        ids[k] = k + 1;
    std::shuffle(ids.begin() + 1, ids.end(), rng);
    ids.resize(movies);
    std::sort(ids.begin(), ids.end());
    std::vector<uint32_t> byRank(ids);
    std::shuffle(byRank.begin(), byRank.end(), rng);
    std::vector<double> cdf(movies);
    double total = 0;
    for (int r = 0; r < movies; ++r)
        cdf[r] = total += 1.0 / std::pow(r + 20.0, 1.1);
    for (double& c : cdf)
        c /= total;

    // Ratings: MovieLens-25M's half-star shares.
    const double starShare[10] = {0.016, 0.032, 0.016, 0.065, 0.049, 0.198, 0.131, 0.266, 0.088, 0.139};
    std::discrete_distribution<int> stars(starShare, starShare + 10);
    std::lognormal_distribution<double> perUser(4.3, 1.1);
    std::uniform_real_distribution<double> unit(0.0, 1.0);

    std::vector<char> buf(1 << 22);
    char* p = buf.data();
    const char* header = "userId,movieId,rating,timestamp\n";
    for (const char* h = header; *h; ++h)
        *p++ = *h;
    uint64_t written = 0;
    std::unordered_set<uint32_t> seen;
    std::vector<uint32_t> picks;
    for (uint64_t user = 1; written < rows; ++user) {
        uint64_t count = 20 + static_cast<uint64_t>(perUser(rng));
        count = std::min<uint64_t>({count, 8000, rows - written});
        seen.clear();
        picks.clear();
        while (picks.size() < count) {
            const auto r = static_cast<size_t>(std::lower_bound(cdf.begin(), cdf.end(), unit(rng)) - cdf.begin());
            const uint32_t movie = byRank[std::min<size_t>(r, movies - 1)];
            if (seen.insert(movie).second)
                picks.push_back(movie);
        }
        std::sort(picks.begin(), picks.end());
        const uint64_t start = 789652009 + static_cast<uint64_t>(unit(rng) * 7.5e8);
        for (const uint32_t movie : picks) {
            if (p - buf.data() > static_cast<long>(buf.size()) - 64) {
                std::fwrite(buf.data(), 1, static_cast<size_t>(p - buf.data()), out);
                p = buf.data();
            }
            const int s = stars(rng) + 1; // half stars 1..10
            p = writeUInt(p, user);
            *p++ = ',';
            p = writeUInt(p, movie);
            *p++ = ',';
            *p++ = static_cast<char>('0' + s / 2);
            *p++ = '.';
            *p++ = s % 2 ? '5' : '0';
            *p++ = ',';
            p = writeUInt(p, start + static_cast<uint64_t>(unit(rng) * 3.4e7));
            *p++ = '\n';
        }
        written += count;
    }
    std::fwrite(buf.data(), 1, static_cast<size_t>(p - buf.data()), out);
    return std::fclose(out) == 0 ? 0 : 1;
}
