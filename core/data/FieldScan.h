// The scanners of the delimited parser's common case (private to core/data): where a buffer's
// separators and line ends are, 64 bytes at a time, and numeric fields read as words or vectors
// of digits. Each reads a little past the bytes it is given: the read buffer keeps kFrontPad bytes
// before its data and kScanPad after its last newline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
// Fields read as vectors of digits (SSE2 and 64-bit moves out of vector registers).
#if defined(__SSE2__) && defined(__x86_64__)
#define RECLAB_WORD_DIGITS 1
#else
#define RECLAB_WORD_DIGITS 0
#endif

namespace reclab::delimited {

// Bytes past a buffer's last newline that the scanners may read: a 64-byte block starting at
// the newline, or 16 bytes of digits starting before it.
inline constexpr size_t kScanPad = 64;

// Where the separators, newlines, quotes and CRs of a buffer are, 64 bytes at a time: a bit per
// byte, taken lowest first. A line's fields end at the positions it yields, so splitting a line
// costs a few bit operations per field instead of a compare and a branch per byte.
class DelimiterScan {
public:
    explicit DelimiterScan(char sep) : sep_(sep) {}
    // Scans on from p (the last line before the buffer's end must end with a newline, and
    // kScanPad bytes after it must be readable).
    void restart(const char* p)
    {
        block_ = p;
        bits_ = maskOf(p);
    }
    const char* next()
    {
        while (bits_ == 0) {
            block_ += 64;
            bits_ = maskOf(block_);
        }
        const char* d = block_ + __builtin_ctzll(bits_);
        bits_ &= bits_ - 1;
        return d;
    }

private:
    uint64_t maskOf(const char* p) const
    {
        uint64_t m = 0;
#if defined(__SSE2__)
        const __m128i sep = _mm_set1_epi8(sep_), nl = _mm_set1_epi8('\n'), quote = _mm_set1_epi8('"'),
                      cr = _mm_set1_epi8('\r');
        for (int k = 0; k < 4; ++k) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
            const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, sep), _mm_cmpeq_epi8(x, nl)),
                                             _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, cr)));
            m |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(hit))} << (16 * k);
        }
#else
        for (int k = 0; k < 64; ++k) {
            const char c = p[k];
            m |= uint64_t{c == sep_ || c == '\n' || c == '"' || c == '\r'} << k;
        }
#endif
        return m;
    }

    char sep_;
    const char* block_ = nullptr;
    uint64_t bits_ = 0;
};

// The value of the n decimal digits at p (1 <= n <= 16; 16 bytes at p must be readable), read
// eight bytes at a time; false when one of them is not a digit.
inline bool fieldDigits(const char* p, size_t n, uint64_t& value)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    // n <= 8 digits of a little-endian word moved to its top bytes: the first digit's place
    // value is 10^(n-1), the bytes below are zero digits. Three multiplies pair the digits up.
    const auto eight = [](const char* q, size_t k, uint64_t& v) {
        uint64_t w;
        std::memcpy(&w, q, 8);
        w <<= 8 * (8 - k);
        const uint64_t used = ~uint64_t{0} << (8 * (8 - k));
        const bool digits = ((((w & 0xF0F0F0F0F0F0F0F0) ^ 0x3030303030303030) & used) |
                             (((w & 0x0F0F0F0F0F0F0F0F) + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0)) == 0;
        w &= 0x0F0F0F0F0F0F0F0F;
        w = (w * 2561) >> 8;
        w = ((w & 0x00FF00FF00FF00FF) * 6553601) >> 16;
        v = ((w & 0x0000FFFF0000FFFF) * 42949672960001) >> 32;
        return digits;
    };
    if (n <= 8)
        return eight(p, n, value);
    uint64_t high = 0, low = 0;
    const bool digits = eight(p, n - 8, high) & eight(p + n - 8, 8, low);
    value = high * 100000000 + low;
    return digits;
#else
    value = 0;
    for (size_t k = 0; k < n; ++k) {
        const unsigned d = static_cast<unsigned>(p[k] - '0');
        if (d > 9)
            return false;
        value = value * 10 + d;
    }
    return true;
#endif
}

#if RECLAB_WORD_DIGITS
// Bytes a field's digits may be read from before it: a field is read as the 16 (or 8) bytes that
// end where it ends, the bytes before it masked off.
inline constexpr size_t kFrontPad = 16;

// 16 zero bytes, then 16 0xFF: the 16 (8) bytes from kTail + n (kTail + 8 + n) keep the last n
// bytes of a 16-byte (8-byte) load.
alignas(16) inline constexpr uint8_t kTail[32] = {0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
                                           0,    0,    0,    0,    0,    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                           0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

// The two 8-digit groups of x's halves (each half's digits end at its last byte; the bytes keep
// does not keep count as leading zeros): group 0 is the lower half. False when a kept byte is not
// a digit. A few vector operations instead of a multiply chain per group.
inline bool digitGroups(__m128i x, __m128i keep, uint64_t& first, uint64_t& second)
{
    const __m128i t = _mm_and_si128(_mm_sub_epi8(x, _mm_set1_epi8('0')), keep);
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_subs_epu8(t, _mm_set1_epi8(9)), _mm_setzero_si128())) != 0xFFFF)
        return false;
    // Digit pairs (the first byte of a pair is the higher digit), then fours, then eights.
    const __m128i pairs = _mm_add_epi16(_mm_mullo_epi16(_mm_and_si128(t, _mm_set1_epi16(0xFF)), _mm_set1_epi16(10)),
                                        _mm_srli_epi16(t, 8));
    const __m128i fours = _mm_madd_epi16(pairs, _mm_set_epi16(1, 100, 1, 100, 1, 100, 1, 100));
    const __m128i eights = _mm_add_epi64(_mm_mul_epu32(fours, _mm_set1_epi32(10000)), _mm_srli_epi64(fours, 32));
    first = static_cast<uint64_t>(_mm_cvtsi128_si64(eights));
    second = static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(eights, eights)));
    return true;
}

// Two fields of 1..8 digits ending at ea and eb, read at once (8 bytes before each readable).
inline bool twoFields(const char* ea, size_t na, const char* eb, size_t nb, uint64_t& a, uint64_t& b)
{
    const __m128i x = _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(ea - 8)),
                                         _mm_loadl_epi64(reinterpret_cast<const __m128i*>(eb - 8)));
    const __m128i keep = _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(kTail + 8 + na)),
                                            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(kTail + 8 + nb)));
    return digitGroups(x, keep, a, b);
}

// A field of 1..16 digits ending at e (16 bytes before it readable).
inline bool sixteenDigits(const char* e, size_t n, uint64_t& value)
{
    uint64_t high = 0, low = 0;
    const bool digits = digitGroups(_mm_loadu_si128(reinterpret_cast<const __m128i*>(e - 16)),
                                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(kTail + n)), high, low);
    value = high * 100000000 + low;
    return digits;
}
#else
inline constexpr size_t kFrontPad = 0;
#endif

} // namespace reclab::delimited
