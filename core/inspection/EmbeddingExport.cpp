#include "inspection/EmbeddingExport.h"

#include "util/Error.h"
#include "util/Files.h"
#include "util/TextFile.h"
#include "util/Words.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>

namespace reclab {

namespace fs = std::filesystem;

namespace {

std::string field(const std::string& text)
{
    std::string out = text;
    std::replace_if(out.begin(), out.end(), [](char c) { return c == '\t' || c == '\n' || c == '\r'; }, ' ');
    return out;
}


std::string number(float v)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", static_cast<double>(v));
    return text;
}

} // namespace

std::vector<std::string> countBuckets(const std::vector<int64_t>& counts, const char* top, const char* middle,
                                      const char* rest)
{
    std::vector<int64_t> sorted = counts;
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    auto threshold = [&](double share) {
        if (sorted.empty())
            return int64_t(0);
        const auto at = std::min(sorted.size() - 1, static_cast<size_t>(share * static_cast<double>(sorted.size())));
        return sorted[at];
    };
    const int64_t head = threshold(0.2), torso = threshold(0.5);
    std::vector<std::string> out;
    out.reserve(counts.size());
    for (const int64_t c : counts)
        out.emplace_back(c >= head && c > 0 ? top : c >= torso && c > 0 ? middle : rest);
    return out;
}

namespace {
// How often each index occurs in column (users' or items' interactions).
template <typename Column> std::vector<int64_t> occurrences(const Column& column, int32_t size)
{
    std::vector<int64_t> counts(static_cast<size_t>(size), 0);
    for (const int32_t at : column)
        ++counts[static_cast<size_t>(at)];
    return counts;
}
} // namespace

EmbeddingMetadata itemMetadata(const Dataset& d)
{
    const std::vector<int64_t> counts = occurrences(d.interactions.item, d.numItems());
    const auto buckets = countBuckets(counts, "head", "torso", "tail");
    EmbeddingMetadata m{{"id", "title", "genre", "genres", "interactions", "popularity"}, {}};
    for (int32_t i = 0; i < d.numItems(); ++i) {
        const auto genres = d.genresOf(i);
        const std::string all = joinWith(genres, "|");
        const auto at = static_cast<size_t>(i);
        m.rows.push_back({d.itemIds[at], at < d.items.title.size() ? d.items.title[at] : d.itemIds[at],
                          genres.empty() ? "(none)" : genres.front(), all.empty() ? "(none)" : all,
                          std::to_string(counts[at]), buckets[at]});
    }
    return m;
}

EmbeddingMetadata userMetadata(const Dataset& d)
{
    const std::vector<int64_t> counts = occurrences(d.interactions.user, d.numUsers());
    const auto buckets = countBuckets(counts, "heavy", "medium", "light");
    EmbeddingMetadata m{{"id", "interactions", "activity"}, {}};
    for (int32_t u = 0; u < d.numUsers(); ++u) {
        const auto at = static_cast<size_t>(u);
        m.rows.push_back({d.userIds[at], std::to_string(counts[at]), buckets[at]});
    }
    return m;
}

void writeProjectorFiles(const std::string& dir, const torch::Tensor& vectors, const EmbeddingMetadata& metadata)
{
    if (vectors.dim() != 2 || static_cast<size_t>(vectors.size(0)) != metadata.rows.size())
        throw Error(dir + ": " + std::to_string(vectors.dim() == 2 ? vectors.size(0) : 0) + " vectors but " +
                    std::to_string(metadata.rows.size()) + " metadata rows");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw Error(dir + ": " + ec.message());
    const torch::Tensor v = vectors.to(torch::kFloat).contiguous();
    const float* p = v.data_ptr<float>();
    std::string text;
    text.reserve(static_cast<size_t>(v.numel()) * 10);
    for (int64_t r = 0; r < v.size(0); ++r) {
        for (int64_t c = 0; c < v.size(1); ++c) {
            if (c)
                text += '\t';
            text += number(p[r * v.size(1) + c]);
        }
        text += '\n';
    }
    writeFileWhole((fs::path(dir) / "vectors.tsv").string(), text);
    // With more than one column the Projector expects a header row.
    text.clear();
    auto line = [&](const std::vector<std::string>& cells) {
        for (size_t c = 0; c < cells.size(); ++c)
            text += (c ? "\t" : "") + field(cells[c]);
        text += '\n';
    };
    line(metadata.columns);
    for (const auto& row : metadata.rows)
        line(row);
    writeFileWhole((fs::path(dir) / "metadata.tsv").string(), text);
}

void writeCoordinatesCsv(const std::string& path, const torch::Tensor& coordinates, const EmbeddingMetadata& metadata)
{
    const torch::Tensor c = coordinates.to(torch::kFloat).contiguous();
    if (c.dim() != 2 || static_cast<size_t>(c.size(0)) != metadata.rows.size())
        throw Error(path + ": coordinates and metadata differ in rows");
    std::string text = metadata.columns.empty() ? "row" : metadata.columns.front();
    for (int64_t k = 0; k < c.size(1); ++k)
        text += ",x" + std::to_string(k + 1);
    text += '\n';
    const float* p = c.data_ptr<float>();
    for (int64_t r = 0; r < c.size(0); ++r) {
        std::string label = metadata.rows[static_cast<size_t>(r)].empty() ? std::to_string(r) : metadata.rows[static_cast<size_t>(r)].front();
        if (label.find_first_of(",\"\n") != std::string::npos) {
            std::string quoted = "\"";
            for (const char ch : label)
                quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
            label = quoted + "\"";
        }
        text += label;
        for (int64_t k = 0; k < c.size(1); ++k)
            text += "," + number(p[r * c.size(1) + k]);
        text += '\n';
    }
    writeFileWhole(path, text);
}

} // namespace reclab
