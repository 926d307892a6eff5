// Fast loading of delimited interaction files (CSV, TSV, "::"-separated, with or without a
// header): the engine under every text format RecLab reads. The file is counted and parsed in
// parallel byte ranges read with pread (no copy of the whole file in memory), rows go straight
// into the final columns, and raw ids become dense indices afterwards.
#pragma once

#include "data/Dataset.h"

#include <string>
#include <vector>

namespace reclab {

// What a column of the file holds.
enum class ColumnRole { Ignore, User, Item, Rating, Timestamp };
const char* columnRoleName(ColumnRole role);
// Parses "user,item,rating,timestamp" ("-" or "skip" ignores a column). Throws ConfigError.
std::vector<ColumnRole> parseColumnRoles(const std::string& spec);

// How the user and item columns' ids are read. Detect: each column is numeric when most ids of
// the file's first rows (those a preview shows) are non-negative integers without leading zeros,
// else text; a value that breaks a numeric column is a bad row naming its line.
enum class IdKinds { Detect, Numeric, Text };
// "auto", "numeric" or "text"; ConfigError otherwise.
IdKinds parseIdKinds(const std::string& name);

struct DelimitedFormat {
    std::string separator;           // ",", "\t", "::", ";", "|" or " "; empty: detect
    int header = -1;                 // 1: the first line names the columns, 0: no header, -1: detect
    std::vector<ColumnRole> columns; // empty: from the header's names, else user,item[,rating[,timestamp]]
    bool skipBadRows = false;        // skip and count malformed rows instead of failing
    int threads = 0;                 // 0: one per core, at most 8
    std::string idColumnNames[2];    // optional display names of the user and item columns
    IdKinds ids = IdKinds::Detect;
    // The format's rating scale, when it has one (MovieLens: 1 to 5 in steps of 1 or 0.5): a
    // rating off the scale is a bad row. step 0: any value in range.
    double ratingMin = 0, ratingMax = -1, ratingStep = 0; // ratingMax < ratingMin: no scale
    std::string scaleName;                                 // for messages, e.g. "ml-1m"
};

// A format with nothing left to detect, plus the header names when the file has them.
struct ResolvedFormat {
    DelimitedFormat format;
    std::vector<std::string> headerNames;
    size_t fieldCount = 0;
};

// Fills in separator, header and columns from the first lines of path. Throws DataError when the
// file is empty, binary, compressed, or has no usable user and item columns.
ResolvedFormat resolveDelimitedFormat(const std::string& path, const DelimitedFormat& format);

// Loads interactions, userIds and itemIds (numeric ids in ascending order, other ids in order
// of first appearance). Implicit files (no rating column) get rating 1. Throws DataError naming
// the file, line, column and expected form of the first bad row unless skipBadRows is set.
Dataset loadDelimited(const std::string& path, const DelimitedFormat& format);

// The first rows of a file split into fields, for an import dialog's live preview. Never throws:
// problems go into problem. The file's first 64 KiB of rows also go through the real parser
// with the resolved format, so the preview reports exactly the errors a full load would meet
// there (file, line, column and expected form).
struct DelimitedPreview {
    ResolvedFormat resolved;
    std::vector<std::vector<std::string>> rows;
    std::string problem;                  // the format cannot be resolved or the file read; for
                                          // unknown header names the rows are still there, with
                                          // every column's role Ignore
    size_t checkedRows = 0, badRows = 0;  // rows parsed by the check, and how many failed
    std::vector<std::string> rowProblems; // messages of the first failing rows
};
DelimitedPreview previewDelimited(const std::string& path, const DelimitedFormat& format, size_t maxRows);

// Splits one CSV/TSV record into fields; a field that starts with a double quote runs to the
// matching quote ("" inside is a literal quote). Used for small side files such as movies.csv.
bool splitQuotedRecord(std::string_view line, std::string_view sep, std::vector<std::string>& out);

} // namespace reclab
