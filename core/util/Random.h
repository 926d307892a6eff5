// A seeded random source whose sequences are identical on every platform and standard
// library: std::mt19937_64 is fully specified, but std::*_distribution is not, so the
// distributions are written here.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>
#include <string>

namespace reclab {

class Random {
public:
    explicit Random(uint64_t seed) : engine_(seed) {}

    uint64_t next() { return engine_(); }

    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

    // Uniform integer in [0, n), n > 0, without modulo bias (Lemire's method).
    uint64_t below(uint64_t n)
    {
        unsigned __int128 m = static_cast<unsigned __int128>(engine_()) * n;
        uint64_t low = static_cast<uint64_t>(m);
        if (low < n) {
            const uint64_t threshold = (0 - n) % n;
            while (low < threshold) {
                m = static_cast<unsigned __int128>(engine_()) * n;
                low = static_cast<uint64_t>(m);
            }
        }
        return static_cast<uint64_t>(m >> 64);
    }

    // Standard normal by Box-Muller (the second value is cached).
    double normal()
    {
        if (hasSpare_) {
            hasSpare_ = false;
            return spare_;
        }
        double u1 = uniform();
        while (u1 <= 0.0)
            u1 = uniform();
        const double u2 = uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        spare_ = r * std::sin(2.0 * M_PI * u2);
        hasSpare_ = true;
        return r * std::cos(2.0 * M_PI * u2);
    }

    double exponential(double mean) { return -mean * std::log(1.0 - uniform()); }

    // Gamma with the given shape (> 0) and scale 1, by Marsaglia and Tsang's squeeze (2000);
    // a shape below 1 is raised by one and scaled back by U^(1/shape).
    double gamma(double shape)
    {
        if (shape < 1.0)
            return gamma(shape + 1.0) * std::pow(1.0 - uniform(), 1.0 / shape);
        const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
        for (;;) {
            double x = 0.0, v = 0.0;
            do {
                x = normal();
                v = 1.0 + c * x;
            } while (v <= 0.0);
            v = v * v * v;
            const double u = uniform(), x2 = x * x;
            if (u < 1.0 - 0.0331 * x2 * x2 || std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v)))
                return d * v;
        }
    }

    // Fisher-Yates shuffle of a random-access range.
    template <typename It> void shuffle(It first, It last)
    {
        const auto n = last - first;
        for (auto i = n - 1; i > 0; --i) {
            const auto j = static_cast<decltype(i)>(below(static_cast<uint64_t>(i) + 1));
            std::swap(first[i], first[j]);
        }
    }

    // The whole state as text (the engine's standard textual form and the cached normal), so
    // a checkpointed run continues with the same draws.
    std::string state() const
    {
        std::ostringstream out;
        uint64_t spareBits = 0;
        std::memcpy(&spareBits, &spare_, sizeof spareBits);
        out << engine_ << ' ' << (hasSpare_ ? 1 : 0) << ' ' << spareBits;
        return out.str();
    }
    // Returns false (leaving the state unchanged) when text is not a state().
    bool restore(const std::string& text)
    {
        std::istringstream in(text);
        std::mt19937_64 engine;
        int hasSpare = 0;
        uint64_t spareBits = 0;
        if (!(in >> engine >> hasSpare >> spareBits))
            return false;
        engine_ = engine;
        hasSpare_ = hasSpare != 0;
        std::memcpy(&spare_, &spareBits, sizeof spare_);
        return true;
    }

private:
    std::mt19937_64 engine_;
    double spare_ = 0.0;
    bool hasSpare_ = false;
};

} // namespace reclab
