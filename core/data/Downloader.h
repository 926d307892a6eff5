// Fetches the public GroupLens MovieLens archives: download over HTTP(S) with progress and
// cancel (libcurl), MD5 verification against the digests GroupLens publishes (OpenSSL), and
// extraction that refuses absolute paths, ".." components and symbolic links (libzip). Either
// the dataset folder appears complete under the target directory or nothing is left there.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace reclab {

// One archive of the catalogue.
struct ArchiveSpec {
    std::string name;        // "ml-100k": also the folder created under the target directory
    std::string url;         // where GroupLens serves it
    std::string md5;         // pinned digest; empty: the archive changes upstream, so the
                             // digest published beside it (url + ".md5") is used
    std::uint64_t approxBytes = 0; // download size, for display
    std::string description;
};

// 100K, 1M, 10M, 20M, 25M and latest-small, in that order.
const std::vector<ArchiveSpec>& movieLensArchives();
// Accepts "ml-100k" or "100k" (any case); nullptr when the name is not in the catalogue.
const ArchiveSpec* findArchive(const std::string& name);
// "ml-100k, ml-1m, ..." for messages.
std::string archiveNames();

struct DownloadRequest {
    std::string name;                 // catalogue name
    std::filesystem::path targetDir;  // the dataset lands in targetDir / name
    std::string url;                  // optional mirror or local copy (http, https or file URL)
    std::string md5;                  // optional digest that replaces the catalogue's
    bool force = false;               // replace an existing dataset folder
    bool keepArchive = false;         // keep the .zip next to the folder
    // The most bytes fetched before the transfer is stopped (a URL that never ends); 0: twice
    // the catalogue's size and 64 MiB more, room for archives refreshed upstream.
    std::uint64_t maxArchiveBytes = 0;
};

enum class DownloadStage { Connecting, Downloading, Verifying, Extracting, Done };
const char* downloadStageName(DownloadStage stage);

struct DownloadProgress {
    DownloadStage stage = DownloadStage::Connecting;
    std::uint64_t done = 0;  // bytes received, or entries extracted
    std::uint64_t total = 0; // 0 when unknown
};
using DownloadProgressFn = std::function<void(const DownloadProgress&)>;

struct DownloadResult {
    std::filesystem::path datasetDir;
    std::string url;
    std::string md5, sha256;       // of the archive
    std::uint64_t archiveBytes = 0;
    std::uint64_t extractedBytes = 0;
    std::vector<std::string> files; // relative to datasetDir
    bool alreadyPresent = false;    // a verified earlier download was found; nothing fetched
    double seconds = 0;
};

// Downloads, verifies and extracts request.name. Throws ConfigError for an unknown name or a
// malformed digest, TransferError for network, HTTP, checksum, disk and unsafe-archive failures,
// CancelledError when *cancel becomes true. On any throw the target directory holds nothing new.
// A folder from an earlier verified download (same digest) is reported as alreadyPresent.
DownloadResult downloadArchive(const DownloadRequest& request, const DownloadProgressFn& progress = {},
                               const std::atomic<bool>* cancel = nullptr);

// Extracts every entry of zipPath under destDir (which must not exist yet; it is created).
// All entry names are checked before anything is written: an absolute path, a drive letter, a
// ".." component, a symbolic link or a declared size over maxBytes in total throws
// TransferError naming the entry, and destDir is then removed again. Returns the files written.
std::vector<std::string> extractZipSafely(const std::filesystem::path& zipPath, const std::filesystem::path& destDir,
                                          const DownloadProgressFn& progress = {},
                                          const std::atomic<bool>* cancel = nullptr,
                                          std::uint64_t maxBytes = std::uint64_t(64) << 30);

// Hex digests of a file (lower case).
struct FileDigests {
    std::string md5, sha256;
};
FileDigests digestFile(const std::filesystem::path& path);

// The digest in a published checksum file: "MD5 (name) = hex", "hex  name" or "hex".
// Empty when none is found.
std::string parsePublishedMd5(const std::string& text);

// The manifest a verified download leaves in its folder (.reclab-download.json): what was
// fetched and extracted. nullopt when the text is not a whole, well-typed manifest, which then
// counts as no verified download.
struct DownloadManifest {
    std::string name, url, md5, sha256;
    std::uint64_t archiveBytes = 0, extractedBytes = 0;
    std::vector<std::string> files;
};
std::optional<DownloadManifest> parseDownloadManifest(const std::string& text);

} // namespace reclab
