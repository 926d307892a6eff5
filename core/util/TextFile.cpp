#include "util/TextFile.h"

#include "util/Error.h"
#include "util/Files.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cmath>

namespace reclab {

TextFile::TextFile(std::string path) : path_(std::move(path))
{
    content_ = readWholeFile(path_);
    if (content_.size() >= 3 && content_.compare(0, 3, "\xEF\xBB\xBF") == 0)
        content_.erase(0, 3);
}

void splitFields(std::string_view line, std::string_view sep, std::vector<std::string_view>& out)
{
    out.clear();
    size_t start = 0;
    while (true) {
        const size_t pos = line.find(sep, start);
        if (pos == std::string_view::npos) {
            out.push_back(line.substr(start));
            return;
        }
        out.push_back(line.substr(start, pos - start));
        start = pos + sep.size();
    }
}

namespace {
// How UTF-8 reads at s[i] (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF): the bytes a character starting there needs (0 when s[i] cannot start one) and how
// many of them are there and well-formed.
struct Utf8Start {
    size_t length = 0, wellFormed = 0;
};

Utf8Start utf8StartAt(std::string_view s, size_t i)
{
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80)
        return {1, 1};
    size_t extra = 0;
    unsigned char low = 0x80, high = 0xBF; // the allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF)
        extra = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        extra = 2;
        low = c == 0xE0 ? 0xA0 : 0x80;
        high = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        extra = 3;
        low = c == 0xF0 ? 0x90 : 0x80;
        high = c == 0xF4 ? 0x8F : 0xBF;
    } else
        return {};
    size_t k = 1;
    for (; k <= extra && i + k < s.size(); ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if (k == 1 ? (b < low || b > high) : (b & 0xC0) != 0x80)
            break;
    }
    return {extra + 1, k};
}

// Length of the well-formed character at s[i], or 0 when the bytes there are not one.
size_t utf8SequenceAt(std::string_view s, size_t i)
{
    const Utf8Start u = utf8StartAt(s, i);
    return u.length > 0 && u.wellFormed == u.length ? u.length : 0;
}

bool isValidUtf8(std::string_view s)
{
    for (size_t i = 0; i < s.size();) {
        const size_t n = utf8SequenceAt(s, i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}
} // namespace

std::string_view Utf8Repair::operator()(long line, std::string_view text)
{
    if (isValidUtf8(text))
        return text;
    buffer_.clear();
    buffer_.reserve(text.size() + 16);
    for (size_t i = 0; i < text.size();) {
        const size_t n = utf8SequenceAt(text, i);
        if (n == 0) {
            // One U+FFFD for the longest start of a sequence that could have been valid (a cut-off
            // character is one replacement, as the Unicode standard recommends), else for one byte.
            const size_t bad = std::max<size_t>(1, utf8StartAt(text, i).wellFormed);
            buffer_ += "\xEF\xBF\xBD"; // U+FFFD REPLACEMENT CHARACTER
            bytes_ += bad;
            i += bad;
        } else {
            buffer_.append(text, i, n);
            i += n;
        }
    }
    if (lines_++ == 0)
        firstLine_ = line;
    return buffer_;
}

std::string Utf8Repair::warning() const
{
    if (lines_ == 0)
        return {};
    return path_ + ":" + std::to_string(firstLine_) + ": " + std::to_string(bytes_) + " byte" + (bytes_ == 1 ? "" : "s") +
           " that are not UTF-8 replaced by U+FFFD on " + std::to_string(lines_) + " line" + (lines_ == 1 ? "" : "s") +
           " (this is the first)";
}

std::string escapedText(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n')
            out += "\\n";
        else if (c == '\r')
            out += "\\r";
        else if (c == '\t')
            out += "\\t";
        else if (u < 0x20 || u == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string toUtf8(std::string_view text)
{
    if (isValidUtf8(text))
        return std::string(text);
    std::string out;
    out.reserve(text.size() + 8);
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x80) {
            out.push_back(ch);
        } else {
            out.push_back(static_cast<char>(0xC0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        }
    }
    return out;
}

bool parseInt64(std::string_view field, long long& value)
{
    if (field.empty())
        return false;
    const char* first = field.data();
    if (*first == '+')
        ++first;
    const char* last = field.data() + field.size();
    auto [ptr, ec] = std::from_chars(first, last, value);
    return ec == std::errc() && ptr == last;
}

bool parseDouble(std::string_view field, double& value)
{
    if (field.empty())
        return false;
    const char* last = field.data() + field.size();
    auto [ptr, ec] = std::from_chars(field.data(), last, value);
    return ec == std::errc() && ptr == last && std::isfinite(value);
}

} // namespace reclab
