#include "util/TextFile.h"

#include "util/Error.h"
#include "util/Files.h"

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
bool isValidUtf8(std::string_view s)
{
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        size_t extra = 0;
        if (c < 0x80)
            extra = 0;
        else if ((c & 0xE0) == 0xC0 && c >= 0xC2)
            extra = 1;
        else if ((c & 0xF0) == 0xE0)
            extra = 2;
        else if ((c & 0xF8) == 0xF0 && c <= 0xF4)
            extra = 3;
        else
            return false;
        if (i + extra >= s.size())
            return false;
        for (size_t k = 1; k <= extra; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80)
                return false;
        i += extra + 1;
    }
    return true;
}
} // namespace

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
