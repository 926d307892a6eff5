// Reading delimited text files line by line with positions for error messages.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace reclab {

// A whole text file in memory, iterated as lines (LF or CRLF; a UTF-8 BOM is skipped).
class TextFile {
public:
    // Throws DataError naming the path when it is not a readable regular file (util/Files.h).
    explicit TextFile(std::string path);

    const std::string& path() const { return path_; }
    // Calls fn(lineNumber, line) for every non-empty line; lineNumber is 1-based.
    template <typename Fn> void forEachLine(Fn&& fn) const
    {
        std::string_view rest(content_);
        long number = 0;
        while (!rest.empty()) {
            const size_t end = rest.find('\n');
            std::string_view line = rest.substr(0, end);
            rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
            ++number;
            if (!line.empty() && line.back() == '\r')
                line.remove_suffix(1);
            if (!line.empty())
                fn(number, line);
        }
    }

private:
    std::string path_;
    std::string content_;
};

// Splits line at every occurrence of sep into out (reused to avoid allocations).
void splitFields(std::string_view line, std::string_view sep, std::vector<std::string_view>& out);

// Text with its control characters shown, not obeyed: \n, \r, \t and \xNN (for names and
// values quoted in messages and tables).
std::string escapedText(std::string_view text);

// Reads lines of a file that should be UTF-8 but may hold a few broken bytes: each byte that
// does not belong to a well-formed sequence becomes U+FFFD, and the lines and bytes replaced
// are counted for the load report, so one bad line costs a warning, not the whole file.
class Utf8Repair {
public:
    explicit Utf8Repair(std::string path) : path_(std::move(path)) {}
    // The line as UTF-8: text itself when it is valid, else a repaired copy (valid until the
    // next call).
    std::string_view operator()(long line, std::string_view text);
    size_t lines() const { return lines_; }
    size_t bytes() const { return bytes_; }
    // "file:line: N bytes that are not UTF-8 replaced ..." naming the first such line; empty
    // when every line was valid.
    std::string warning() const;

private:
    std::string path_, buffer_;
    size_t lines_ = 0, bytes_ = 0;
    long firstLine_ = 0;
};

// Text as UTF-8: valid UTF-8 is kept, anything else is read as Latin-1 (as MovieLens titles are).
std::string toUtf8(std::string_view text);

// Parses a whole field as an integer or a finite floating-point number; false when it is not one.
bool parseInt64(std::string_view field, long long& value);
bool parseDouble(std::string_view field, double& value);

} // namespace reclab
