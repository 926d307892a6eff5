// Small text helpers shared by messages and labels.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

namespace reclab {

// "a", "a and b", "a, b and c" (last: " and " or " or ").
inline std::string joinWords(const std::vector<std::string>& words, const std::string& last = " and ")
{
    std::string out;
    for (size_t k = 0; k < words.size(); ++k)
        out += (k == 0 ? "" : k + 1 == words.size() ? last : std::string(", ")) + words[k];
    return out;
}

// The parts with sep between them: "a|b|c".
inline std::string joinWith(const std::vector<std::string>& parts, const std::string& sep)
{
    std::string out;
    for (size_t k = 0; k < parts.size(); ++k)
        out += (k == 0 ? "" : sep) + parts[k];
    return out;
}

// A number in at most six significant digits, without trailing zeros: "4", "3.5", "1e-05".
inline std::string shortNumber(double value)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", value);
    return text;
}

// ASCII lower case (identifiers, file extensions, option values).
inline std::string lowerAscii(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

} // namespace reclab
