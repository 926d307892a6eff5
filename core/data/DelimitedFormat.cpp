#include "data/DelimitedParts.h"

#include "data/FieldParsers.h"
#include "util/Error.h"
#include "util/TextFile.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace reclab {

using namespace delimited;

const char* columnRoleName(ColumnRole role)
{
    switch (role) {
    case ColumnRole::User: return "user";
    case ColumnRole::Item: return "item";
    case ColumnRole::Rating: return "rating";
    case ColumnRole::Timestamp: return "timestamp";
    case ColumnRole::Ignore: break;
    }
    return "-";
}

std::vector<ColumnRole> parseColumnRoles(const std::string& spec)
{
    std::vector<ColumnRole> roles;
    size_t start = 0;
    while (start <= spec.size()) {
        size_t end = spec.find(',', start);
        if (end == std::string::npos)
            end = spec.size();
        const std::string name = spec.substr(start, end - start);
        if (name == "user")
            roles.push_back(ColumnRole::User);
        else if (name == "item")
            roles.push_back(ColumnRole::Item);
        else if (name == "rating")
            roles.push_back(ColumnRole::Rating);
        else if (name == "timestamp")
            roles.push_back(ColumnRole::Timestamp);
        else if (name == "-" || name == "skip" || name.empty())
            roles.push_back(ColumnRole::Ignore);
        else
            throw ConfigError("columns", "unknown column '" + name +
                                             "'; expected user, item, rating, timestamp or - (ignore)");
        start = end + 1;
    }
    for (ColumnRole r : {ColumnRole::User, ColumnRole::Item, ColumnRole::Rating, ColumnRole::Timestamp})
        if (std::count(roles.begin(), roles.end(), r) > 1)
            throw ConfigError("columns", std::string("'") + columnRoleName(r) + "' is named twice");
    if (std::count(roles.begin(), roles.end(), ColumnRole::User) != 1 ||
        std::count(roles.begin(), roles.end(), ColumnRole::Item) != 1)
        throw ConfigError("columns", "a user and an item column are required, e.g. user,item,rating,timestamp");
    return roles;
}

IdKinds parseIdKinds(const std::string& name)
{
    if (name == "auto")
        return IdKinds::Detect;
    if (name == "numeric")
        return IdKinds::Numeric;
    if (name == "text")
        return IdKinds::Text;
    throw ConfigError("ids", "expected auto, numeric or text, got '" + name + "'");
}

namespace delimited {

std::string printable(std::string_view s)
{
    return escapedText(s.substr(0, 40)) + (s.size() > 40 ? "..." : "");
}

std::string separatorName(const std::string& sep)
{
    if (sep == "\t")
        return "tab";
    if (sep == " ")
        return "space";
    return "'" + sep + "'";
}

// Splits a line into fields without unquoting (for sniffing and quick counts).
size_t countFields(std::string_view line, std::string_view sep)
{
    std::vector<std::string> fields;
    if (!splitQuotedRecord(line, sep, fields))
        return 0;
    return fields.size();
}

std::vector<std::string_view> headLines(std::string_view head, size_t maxLines, bool complete)
{
    std::vector<std::string_view> lines;
    while (!head.empty() && lines.size() < maxLines) {
        const size_t end = head.find('\n');
        if (end == std::string_view::npos && !complete)
            break; // a partial last line of a longer file
        std::string_view line = head.substr(0, end);
        head = end == std::string_view::npos ? std::string_view() : head.substr(end + 1);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.find_first_not_of(" \t") != std::string_view::npos)
            lines.push_back(line);
    }
    return lines;
}

std::string normalisedName(std::string name)
{
    const size_t colon = name.find(':');
    if (colon != std::string::npos)
        name.resize(colon); // RecBole's "user_id:token"
    std::string out;
    for (const char c : name)
        if (c != '"' && c != ' ' && c != '_' && c != '-')
            out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return out;
}

ColumnRole roleFromName(const std::string& header)
{
    static const std::pair<const char*, ColumnRole> kNames[] = {
        {"user", ColumnRole::User},          {"userid", ColumnRole::User},
        {"uid", ColumnRole::User},           {"reviewerid", ColumnRole::User},
        {"customerid", ColumnRole::User},    {"visitorid", ColumnRole::User},
        {"item", ColumnRole::Item},          {"itemid", ColumnRole::Item},
        {"movieid", ColumnRole::Item},       {"iid", ColumnRole::Item},
        {"asin", ColumnRole::Item},          {"productid", ColumnRole::Item},
        {"isbn", ColumnRole::Item},          {"bookid", ColumnRole::Item},
        {"rating", ColumnRole::Rating},      {"overall", ColumnRole::Rating},
        {"score", ColumnRole::Rating},       {"stars", ColumnRole::Rating},
        {"label", ColumnRole::Rating},       {"starrating", ColumnRole::Rating},
        {"bookrating", ColumnRole::Rating},  {"timestamp", ColumnRole::Timestamp},
        {"time", ColumnRole::Timestamp},     {"ts", ColumnRole::Timestamp},
        {"unixreviewtime", ColumnRole::Timestamp}, {"date", ColumnRole::Timestamp},
        {"datetime", ColumnRole::Timestamp}, {"createdat", ColumnRole::Timestamp},
    };
    const std::string n = normalisedName(header);
    for (const auto& [name, role] : kNames)
        if (n == name)
            return role;
    return ColumnRole::Ignore;
}

bool isNumber(std::string_view s)
{
    double v = 0;
    return parseNumberField(s, v);
}

void rejectNonText(const std::string& path, std::string_view head)
{
    if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b)
        throw DataError(path, 1, "", "the file is gzip-compressed; decompress it first (gunzip), then load the text file");
    if (head.size() >= 4 && head.compare(0, 4, "PK\x03\x04") == 0)
        throw DataError(path, 1, "", "the file is a zip archive; extract it and load the folder or file inside");
    const size_t nul = head.find('\0');
    if (nul != std::string_view::npos) {
        const long line = 1 + static_cast<long>(std::count(head.begin(), head.begin() + static_cast<long>(nul), '\n'));
        throw DataError(path, line, "", "binary data (a NUL byte); expected delimited text with one interaction per line");
    }
}

QuoteScan scanQuoted(const char* p, const char* e, std::string_view sep, std::string& out, const char*& next)
{
    out.clear();
    const char* k = p + 1;
    while (true) {
        if (k >= e)
            return QuoteScan::Unclosed;
        if (*k == '"') {
            if (k + 1 < e && k[1] == '"') {
                out.push_back('"');
                k += 2;
                continue;
            }
            ++k;
            break;
        }
        out.push_back(*k++);
    }
    next = k;
    if (k < e && !(static_cast<size_t>(e - k) >= sep.size() && std::memcmp(k, sep.data(), sep.size()) == 0))
        return QuoteScan::TextAfter;
    return QuoteScan::Ok;
}

} // namespace delimited

bool splitQuotedRecord(std::string_view line, std::string_view sep, std::vector<std::string>& out)
{
    out.clear();
    const char* const e = line.data() + line.size();
    size_t pos = 0;
    while (true) {
        if (pos < line.size() && line[pos] == '"') {
            std::string field;
            const char* next = nullptr;
            if (scanQuoted(line.data() + pos, e, sep, field, next) != QuoteScan::Ok)
                return false;
            out.push_back(std::move(field));
            if (next >= e)
                return true;
            pos = static_cast<size_t>(next - line.data()) + sep.size();
            continue;
        }
        const size_t end = sep == " " ? line.find_first_of(" \t", pos) : line.find(sep, pos);
        if (end == std::string_view::npos) {
            out.emplace_back(line.substr(pos));
            return true;
        }
        out.emplace_back(line.substr(pos, end - pos));
        pos = end + sep.size();
        if (sep == " ")
            while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t'))
                ++pos;
    }
}

namespace delimited {

ResolvedFormat resolveFromHead(const std::string& path, const FileHead& head, const DelimitedFormat& format)
{
    if (head.text.find_first_not_of(" \t\r\n") == std::string::npos)
        throw DataError(path, 0, "", "the file is empty; expected one interaction per line (user, item, rating, timestamp)");
    rejectNonText(path, head.text);
    const auto lines = headLines(head.text, 30, head.complete);
    if (lines.empty())
        throw DataError(path, 1, "", "the first line is longer than 64 KiB; expected delimited text");

    ResolvedFormat r;
    r.format = format;
    DelimitedFormat& f = r.format;
    if (f.separator.empty()) {
        static const char* const kCandidates[] = {"::", "\t", ",", ";", "|", " "};
        size_t bestScore = 0;
        for (const char* sep : kCandidates) {
            const size_t first = countFields(lines[0], sep);
            if (first < 2)
                continue;
            size_t score = 0;
            for (const auto& line : lines)
                score += countFields(line, sep) == first ? 1 : 0;
            if (score > bestScore) {
                bestScore = score;
                f.separator = sep;
            }
        }
        if (f.separator.empty())
            throw DataError(path, 1, "", "no separator found; expected fields separated by ',', tab, '::', ';', '|' or space");
    }
    std::vector<std::string> first;
    if (!splitQuotedRecord(lines[0], f.separator, first))
        throw DataError(path, 1, "", "a quoted field has no closing quote");
    r.fieldCount = first.size();
    if (f.header < 0) {
        bool named = false;
        for (const auto& name : first)
            named = named || roleFromName(name) != ColumnRole::Ignore;
        bool anyNumber = false;
        for (const auto& v : first)
            anyNumber = anyNumber || isNumber(v);
        f.header = named || (!anyNumber && lines.size() > 1) ? 1 : 0;
    }
    if (f.header == 1)
        r.headerNames = first;
    if (f.columns.empty()) {
        if (f.header == 1) {
            f.columns.assign(first.size(), ColumnRole::Ignore);
            for (size_t c = 0; c < first.size(); ++c) {
                const ColumnRole role = roleFromName(first[c]);
                if (role != ColumnRole::Ignore &&
                    std::find(f.columns.begin(), f.columns.end(), role) == f.columns.end())
                    f.columns[c] = role;
            }
            if (std::find(f.columns.begin(), f.columns.end(), ColumnRole::User) == f.columns.end() ||
                std::find(f.columns.begin(), f.columns.end(), ColumnRole::Item) == f.columns.end())
                throw DataError(path, 1, "header",
                                "no user and item columns among the names; expected names such as userId and "
                                "movieId (or item_id, asin), or give the columns explicitly");
        } else {
            f.columns = {ColumnRole::User, ColumnRole::Item};
            if (first.size() >= 4) {
                f.columns.push_back(ColumnRole::Rating);
                f.columns.push_back(ColumnRole::Timestamp);
            } else if (first.size() == 3) {
                // A third column is a timestamp when it looks like Unix seconds, else a rating.
                double v = 0;
                const bool seconds = parseNumberField(first[2], v) && v > 1e8;
                f.columns.push_back(seconds ? ColumnRole::Timestamp : ColumnRole::Rating);
            }
            f.columns.resize(std::max(first.size(), f.columns.size()), ColumnRole::Ignore);
        }
    }
    if (f.columns.size() > r.fieldCount)
        throw DataError(path, 1, "", "the columns name " + std::to_string(f.columns.size()) + " fields but the line has " +
                                         std::to_string(r.fieldCount) + " separated by " + separatorName(f.separator));
    f.columns.resize(r.fieldCount, ColumnRole::Ignore);
    return r;
}

} // namespace delimited

ResolvedFormat resolveDelimitedFormat(const std::string& path, const DelimitedFormat& format)
{
    const delimited::InputFile file(path);
    return delimited::resolveFromHead(path, delimited::FileHead(file), format);
}

namespace {

// Runs the loader itself over the complete lines of the head (an in-memory file), so the
// preview's verdict on each row is the full load's verdict, messages included.
void checkPreviewRows(const std::string& path, const FileHead& head, DelimitedPreview& preview)
{
    std::string_view text = head.text;
    if (!head.complete)
        text = text.substr(0, text.rfind('\n') + 1); // npos + 1 == 0: no complete line
    if (text.empty())
        return;
    const int fd = ::memfd_create("reclab-preview", MFD_CLOEXEC);
    if (fd < 0)
        return;
    const std::string memPath = "/proc/self/fd/" + std::to_string(fd);
    try {
        size_t done = 0;
        while (done < text.size()) {
            const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
            if (n <= 0)
                throw DataError(path, 0, "", "cannot check the preview rows");
            done += static_cast<size_t>(n);
        }
        DelimitedFormat f = preview.resolved.format;
        f.skipBadRows = true;
        f.threads = 1;
        const Dataset d = loadDelimited(memPath, f);
        preview.checkedRows = d.interactions.size() + d.report.skippedRows;
        preview.badRows = d.report.skippedRows;
        for (std::string problem : d.report.problems) {
            if (problem.compare(0, memPath.size(), memPath) == 0)
                problem.replace(0, memPath.size(), path);
            preview.rowProblems.push_back(std::move(problem));
        }
    } catch (const std::exception& e) {
        std::string problem = e.what();
        if (problem.compare(0, memPath.size(), memPath) == 0)
            problem.replace(0, memPath.size(), path);
        preview.rowProblems.push_back(std::move(problem));
    }
    ::close(fd);
}

} // namespace

DelimitedPreview previewDelimited(const std::string& path, const DelimitedFormat& format, size_t maxRows)
{
    DelimitedPreview preview;
    try {
        const InputFile file(path);
        const FileHead head(file);
        try {
            preview.resolved = resolveFromHead(path, head, format);
        } catch (const DataError& e) {
            // Header names RecLab does not know: still show the rows, so the roles can be chosen.
            if (e.field() != "header" || !format.columns.empty())
                throw;
            DelimitedFormat unassigned = format;
            unassigned.columns.assign(1, ColumnRole::Ignore);
            preview.resolved = resolveFromHead(path, head, unassigned);
            preview.problem = e.what();
        }
        const auto lines = headLines(head.text, maxRows + 1, head.complete);
        for (size_t k = preview.resolved.format.header == 1 ? 1 : 0; k < lines.size() && preview.rows.size() < maxRows; ++k) {
            std::vector<std::string> fields;
            splitQuotedRecord(lines[k], preview.resolved.format.separator, fields);
            preview.rows.push_back(std::move(fields));
        }
        if (preview.problem.empty())
            checkPreviewRows(path, head, preview);
    } catch (const std::exception& e) {
        preview.problem = e.what();
    }
    return preview;
}

} // namespace reclab
