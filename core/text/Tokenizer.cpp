#include "text/Tokenizer.h"

#include "data/SideData.h"

#include <algorithm>
#include <array>

namespace reclab {

namespace {

// Lower-case stop words, sorted for binary search.
constexpr std::array<std::string_view, 142> kStopWords = {
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "arent", "as",
    "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can",
    "cannot", "cant", "could", "couldnt", "did", "didnt", "do", "does", "doesnt", "doing", "dont", "down",
    "during", "each", "few", "for", "from", "further", "had", "hadnt", "has", "hasnt", "have", "havent",
    "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "im", "in",
    "into", "is", "isnt", "it", "its", "itself", "ive", "me", "more", "most", "my", "myself", "no", "nor",
    "not", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own",
    "same", "she", "should", "so", "some", "such", "than", "that", "thats", "the", "their", "theirs", "them",
    "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until",
    "up", "very", "was", "wasnt", "we", "were", "werent", "what", "when", "where", "which", "while", "who",
    "whom", "why", "with", "wont", "would", "wouldnt", "you", "your", "youre", "yours", "yourself",
    "yourselves",
};

bool isAsciiWordChar(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Bytes of the UTF-8 sequence starting with lead byte c (1 for ASCII and stray bytes).
size_t sequenceLength(unsigned char c)
{
    if (c >= 0xF0)
        return 4;
    if (c >= 0xE0)
        return 3;
    if (c >= 0xC0)
        return 2;
    return 1;
}

// Whether the non-ASCII character at s (n bytes) separates words: Latin-1 punctuation and
// symbols (U+00A0..U+00BF, U+00D7, U+00F7), general punctuation (U+2000..U+206F, curly quotes
// and dashes among them), U+FFFD and bytes that are not a whole character.
bool isSeparator(std::string_view s)
{
    const auto b0 = static_cast<unsigned char>(s[0]);
    const auto b1 = s.size() > 1 ? static_cast<unsigned char>(s[1]) : 0;
    const auto b2 = s.size() > 2 ? static_cast<unsigned char>(s[2]) : 0;
    if (s.size() == 1)
        return true;
    if (b0 == 0xC2 && b1 >= 0xA0)
        return true;
    if (b0 == 0xC3 && (b1 == 0x97 || b1 == 0xB7))
        return true;
    if (b0 == 0xE2 && (b1 == 0x80 || b1 == 0x81))
        return true;
    return b0 == 0xEF && b1 == 0xBF && b2 == 0xBD;
}

bool isApostrophe(std::string_view s) { return s == "'" || s == "\xE2\x80\x99"; }

// Whether rest starts with a contraction's ending (s, t, d, m, re, ve, ll) that ends a word.
bool endsContraction(std::string_view rest)
{
    size_t n = 0;
    while (n < rest.size() && n < 3 && isAsciiWordChar(static_cast<unsigned char>(rest[n])))
        ++n;
    if (n == 0 || n > 2)
        return false;
    if (n < rest.size() && static_cast<unsigned char>(rest[n]) >= 0x80) { // a letter beyond ASCII continues the word
        const size_t len = std::min(sequenceLength(static_cast<unsigned char>(rest[n])), rest.size() - n);
        if (!isSeparator(rest.substr(n, len)))
            return false;
    }
    std::string end(rest.substr(0, n));
    for (auto& c : end)
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return end == "s" || end == "t" || end == "d" || end == "m" || end == "re" || end == "ve" || end == "ll";
}

} // namespace

void tokenizeInto(std::string_view text, std::vector<std::string>& out)
{
    std::string word;
    auto flush = [&] {
        if (!word.empty())
            out.push_back(std::move(word));
        word.clear();
    };
    for (size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            if (isAsciiWordChar(c)) {
                word.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
                ++i;
                continue;
            }
        }
        const size_t n = std::min(sequenceLength(c), text.size() - i);
        const std::string_view ch = text.substr(i, n);
        i += n;
        // "don't", "children's": an apostrophe before an English ending joins the two parts;
        // elsewhere ("d'Amélie", "rock'n'roll") it separates words.
        if (isApostrophe(ch) && !word.empty() && endsContraction(text.substr(i)))
            continue;
        if (c < 0x80 || isSeparator(ch)) {
            flush();
            continue;
        }
        // A Latin-1 capital (U+00C0..U+00DE) lowered by 0x20, other letters kept as they are.
        if (c == 0xC3 && n == 2 && static_cast<unsigned char>(ch[1]) >= 0x80 && static_cast<unsigned char>(ch[1]) <= 0x9E) {
            word.push_back(ch[0]);
            word.push_back(static_cast<char>(static_cast<unsigned char>(ch[1]) + 0x20));
        } else {
            word.append(ch);
        }
    }
    flush();
}

std::vector<std::string> tokenize(std::string_view text)
{
    std::vector<std::string> out;
    tokenizeInto(text, out);
    return out;
}

bool isStopWord(std::string_view word) { return std::binary_search(kStopWords.begin(), kStopWords.end(), word); }

size_t stopWordCount() { return kStopWords.size(); }

std::string_view titleWithoutYear(std::string_view title)
{
    if (yearFromTitle(title) == 0)
        return title;
    title = title.substr(0, title.rfind('('));
    while (!title.empty() && title.back() == ' ')
        title.remove_suffix(1);
    return title;
}

std::string categoryToken(std::string_view name)
{
    std::vector<std::string> words;
    tokenizeInto(name, words);
    std::string out;
    for (const auto& w : words)
        out += (out.empty() ? "" : "-") + w;
    return out;
}

} // namespace reclab
