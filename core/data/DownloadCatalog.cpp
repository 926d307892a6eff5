// The archives RecLab knows how to download (GroupLens' MovieLens releases with their digests),
// the manifest a finished download leaves beside its files, and the MD5 GroupLens publishes.
#include "data/Downloader.h"

#include "util/Words.h"

#include <nlohmann/json.hpp>

#include <cctype>

namespace reclab {

namespace {
const char* const kGroupLens = "https://files.grouplens.org/datasets/movielens/";
} // namespace

const std::vector<ArchiveSpec>& movieLensArchives()
{
    static const std::vector<ArchiveSpec> archives = [] {
        std::string base = kGroupLens;
        return std::vector<ArchiveSpec>{
            {"ml-100k", base + "ml-100k.zip", "0e33842e24a9c977be4e0107933c0723", 4924029,
             "100,000 ratings from 943 users on 1,682 movies, with demographics (1998)"},
            {"ml-1m", base + "ml-1m.zip", "c4d9eecfca2ab87c1945afe126590906", 5917549,
             "1,000,209 ratings from 6,040 users on 3,706 movies, with demographics (2003)"},
            {"ml-10m", base + "ml-10m.zip", "ce571fd55effeba0271552578f2648bd", 65566137,
             "10,000,054 ratings and 95,580 tags from 69,878 users on 10,677 movies (2009)"},
            {"ml-20m", base + "ml-20m.zip", "cd245b17a1ae2cc31bb14903e1204af3", 198702078,
             "20,000,263 ratings and 465,564 tags from 138,493 users on 27,278 movies (2015)"},
            {"ml-25m", base + "ml-25m.zip", "6b51fb2759a8657d3bfcbfc42b592ada", 261978986,
             "25,000,095 ratings and 1,093,360 tags from 162,541 users on 62,423 movies (2019)"},
            {"ml-latest-small", base + "ml-latest-small.zip", "", 978202,
             "about 100,000 ratings from 610 users on 9,700 movies; refreshed by GroupLens now and then"},
        };
    }();
    return archives;
}

const ArchiveSpec* findArchive(const std::string& name)
{
    std::string key = lowerAscii(name);
    for (const auto& spec : movieLensArchives())
        if (spec.name == key || spec.name == "ml-" + key)
            return &spec;
    return nullptr;
}

std::string archiveNames()
{
    std::string out;
    for (const auto& spec : movieLensArchives())
        out += (out.empty() ? "" : ", ") + spec.name;
    return out;
}

const char* downloadStageName(DownloadStage stage)
{
    switch (stage) {
    case DownloadStage::Connecting: return "connecting";
    case DownloadStage::Downloading: return "downloading";
    case DownloadStage::Verifying: return "verifying";
    case DownloadStage::Extracting: return "extracting";
    case DownloadStage::Done: return "done";
    }
    return "?";
}

std::optional<DownloadManifest> parseDownloadManifest(const std::string& text)
{
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return std::nullopt;
    auto text_ = [&](const char* key, std::string& out) {
        const auto it = j.find(key);
        if (it == j.end() || !it->is_string())
            return false;
        out = it->get<std::string>();
        return true;
    };
    auto count = [&](const char* key, std::uint64_t& out) {
        const auto it = j.find(key);
        if (it == j.end() || !it->is_number_unsigned())
            return false;
        out = it->get<std::uint64_t>();
        return true;
    };
    DownloadManifest m;
    if (!text_("name", m.name) || !text_("url", m.url) || !text_("md5", m.md5) || !text_("sha256", m.sha256) ||
        !count("archive_bytes", m.archiveBytes) || !count("extracted_bytes", m.extractedBytes))
        return std::nullopt;
    const auto files = j.find("files");
    if (files == j.end() || !files->is_array())
        return std::nullopt;
    for (const auto& f : *files) {
        if (!f.is_string())
            return std::nullopt;
        m.files.push_back(f.get<std::string>());
    }
    return m;
}

std::string parsePublishedMd5(const std::string& text)
{
    size_t run = 0;
    for (size_t i = 0; i <= text.size(); ++i) {
        bool hex = i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i]));
        if (hex) {
            ++run;
            continue;
        }
        if (run == 32)
            return lowerAscii(text.substr(i - 32, 32));
        run = 0;
    }
    return {};
}

} // namespace reclab
