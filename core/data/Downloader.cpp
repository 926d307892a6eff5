#include "data/Downloader.h"
#include "data/DownloadParts.h"
#include "util/Clock.h"
#include "util/Words.h"

#include "util/Error.h"
#include "util/Files.h"

#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <zip.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>

namespace reclab {

using namespace download;

namespace {

const char* const kMarkerName = ".reclab-download.json";

bool isHexDigest(const std::string& s, size_t length)
{
    return s.size() == length && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c); });
}

// Streaming MD5 + SHA-256 of everything fed to it.
class Hasher {
public:
    Hasher() : md5_(EVP_MD_CTX_new()), sha_(EVP_MD_CTX_new())
    {
        if (!md5_ || !sha_ || EVP_DigestInit_ex(md5_, EVP_md5(), nullptr) != 1
            || EVP_DigestInit_ex(sha_, EVP_sha256(), nullptr) != 1)
            throw TransferError("OpenSSL cannot compute MD5 and SHA-256 digests here");
    }
    ~Hasher()
    {
        EVP_MD_CTX_free(md5_);
        EVP_MD_CTX_free(sha_);
    }
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;

    void update(const void* data, size_t size)
    {
        EVP_DigestUpdate(md5_, data, size);
        EVP_DigestUpdate(sha_, data, size);
    }
    FileDigests finish()
    {
        return {hex(md5_), hex(sha_)};
    }

private:
    static std::string hex(EVP_MD_CTX* ctx)
    {
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        EVP_DigestFinal_ex(ctx, digest, &length);
        static const char* digits = "0123456789abcdef";
        std::string out;
        for (unsigned int i = 0; i < length; ++i) {
            out += digits[digest[i] >> 4];
            out += digits[digest[i] & 15];
        }
        return out;
    }
    EVP_MD_CTX* md5_;
    EVP_MD_CTX* sha_;
};

// OpenSSL keeps per-thread state (the error queue, ...) that it frees when the thread ends, with
// a destructor that needs the library still initialised. Downloads run on worker threads that may
// end while the process exits, after OpenSSL's own clean-up; releasing the state when the work is
// done leaves nothing for that destructor to do.
struct ReleaseThreadCryptoState {
    ~ReleaseThreadCryptoState() { OPENSSL_thread_stop(); }
};

// ---- HTTP(S) transfer with libcurl ------------------------------------------------------------

void initCurlOnce()
{
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            throw TransferError("libcurl failed to initialise");
    });
}

struct TransferSink {
    int fd = -1;               // file to write, or -1 to collect in memory
    std::string memory;
    std::uint64_t memoryLimit = 1 << 20;
    Hasher* hasher = nullptr;
    std::uint64_t bytes = 0;
    std::uint64_t fileLimit = 0; // 0: none; more is refused (a URL that never ends, /dev/zero)
    int writeErrno = 0;
    bool tooLarge = false;
    ProgressThrottle* progress = nullptr;
    const std::atomic<bool>* cancel = nullptr;
};

size_t onCurlWrite(char* data, size_t size, size_t count, void* user)
{
    auto* sink = static_cast<TransferSink*>(user);
    size_t n = size * count;
    if (sink->fd >= 0) {
        if (sink->fileLimit > 0 && sink->bytes + n > sink->fileLimit) {
            sink->tooLarge = true;
            return 0;
        }
        if (!writeAll(sink->fd, data, n)) {
            sink->writeErrno = errno;
            return 0;
        }
    } else {
        if (sink->memory.size() + n > sink->memoryLimit) {
            sink->tooLarge = true;
            return 0;
        }
        sink->memory.append(data, n);
    }
    if (sink->hasher)
        sink->hasher->update(data, n);
    sink->bytes += n;
    return n;
}

int onCurlProgress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t)
{
    auto* sink = static_cast<TransferSink*>(user);
    if (cancelled(sink->cancel))
        return 1;
    if (sink->progress)
        sink->progress->report(DownloadStage::Downloading, std::uint64_t(now), std::uint64_t(total));
    return 0;
}

void fetch(const std::string& url, TransferSink& sink)
{
    initCurlOnce();
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl)
        throw TransferError(url + ": libcurl could not start a transfer");
    char errorText[CURL_ERROR_SIZE] = {0};
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    // A connection that delivers nothing for a minute is given up.
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "RecLab/0.1 (+libcurl)");
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, long(CURLPROTO_HTTP | CURLPROTO_HTTPS | CURLPROTO_FILE));
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, long(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onCurlWrite);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, onCurlProgress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &sink);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errorText);

    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        return;
    if (rc == CURLE_ABORTED_BY_CALLBACK)
        throw CancelledError("download of " + url + " cancelled");
    if (rc == CURLE_HTTP_RETURNED_ERROR) {
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        throw TransferError(url + ": the server answered HTTP " + std::to_string(status));
    }
    if (rc == CURLE_WRITE_ERROR && sink.writeErrno != 0)
        throw TransferError(std::string("cannot write the download: ") + std::strerror(sink.writeErrno));
    if (rc == CURLE_WRITE_ERROR && sink.tooLarge && sink.fd >= 0)
        throw TransferError(url + ": more than " + std::to_string(sink.fileLimit) +
                            " bytes, far beyond the archive's size; stopped and removed the partial download");
    if (rc == CURLE_WRITE_ERROR && sink.tooLarge)
        throw TransferError(url + ": more than " + std::to_string(sink.memoryLimit) + " bytes where a checksum file was expected");
    throw TransferError(url + ": " + (errorText[0] ? std::string(errorText) : curl_easy_strerror(rc)));
}

// ---- safe zip extraction -------------------------------------------------------------------

// Why an entry name may not be written under the destination, or "" when it may.
std::optional<DownloadManifest> readMarker(const fs::path& dir)
{
    const fs::path path = dir / kMarkerName;
    if (!isRegularFile(path.string()))
        return std::nullopt;
    try {
        return parseDownloadManifest(readWholeFile(path.string(), size_t{16} << 20, "a download manifest"));
    } catch (const DataError&) {
        return std::nullopt;
    }
}

std::string uniqueTag(const std::string& name)
{
    std::random_device device;
    return ".reclab-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(device() % 1000000);
}

} // namespace

FileDigests digestFile(const fs::path& path)
{
    const ReleaseThreadCryptoState release;
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        throw TransferError(errnoText(path, "open"));
    Hasher hasher;
    std::vector<char> buffer(kChunk);
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw TransferError(errnoText(path, "read"));
        if (n == 0)
            break;
        hasher.update(buffer.data(), size_t(n));
    }
    return hasher.finish();
}

DownloadResult downloadArchive(const DownloadRequest& request, const DownloadProgressFn& progress,
                               const std::atomic<bool>* cancel)
{
    const ReleaseThreadCryptoState release;
    auto started = std::chrono::steady_clock::now();
    const ArchiveSpec* spec = findArchive(request.name);
    if (!spec)
        throw ConfigError("name", "'" + request.name + "' is not a known archive; choose one of " + archiveNames());
    if (request.targetDir.empty())
        throw ConfigError("to", "no target folder given");
    std::string md5 = lowerAscii(request.md5);
    if (!md5.empty() && !isHexDigest(md5, 32))
        throw ConfigError("md5", "'" + request.md5 + "' is not an MD5 digest (32 hexadecimal digits)");

    DownloadResult result;
    result.url = request.url.empty() ? spec->url : request.url;
    // A local copy must be a file: a device (file:///dev/zero) or a FIFO would never end.
    if (result.url.rfind("file://", 0) == 0)
        requireRegularFile(result.url.substr(7));
    ProgressThrottle throttle(progress);
    throttle.report(DownloadStage::Connecting, 0, spec->approxBytes, true);
    if (md5.empty())
        md5 = spec->md5;
    if (md5.empty()) {
        // The archive is refreshed upstream: trust the digest published beside it.
        TransferSink sink;
        sink.cancel = cancel;
        fetch(result.url + ".md5", sink);
        md5 = parsePublishedMd5(sink.memory);
        if (md5.empty())
            throw TransferError(result.url + ".md5: no MD5 digest found in the published checksum file");
    }

    std::error_code ec;
    fs::create_directories(request.targetDir, ec);
    if (ec)
        throw TransferError(request.targetDir.string() + ": cannot create folder: " + ec.message());
    const fs::path finalDir = request.targetDir / spec->name;
    if (fs::exists(finalDir) && !request.force) {
        const auto marker = readMarker(finalDir);
        if (marker && marker->md5 == md5) {
            result.datasetDir = finalDir;
            result.alreadyPresent = true;
            result.md5 = md5;
            result.sha256 = marker->sha256;
            result.archiveBytes = marker->archiveBytes;
            result.extractedBytes = marker->extractedBytes;
            result.files = marker->files;
            throttle.report(DownloadStage::Done, result.archiveBytes, result.archiveBytes, true);
            return result;
        }
        throw TransferError(finalDir.string() + " exists and is not a verified download of " + spec->name +
                            "; remove it or ask to replace it");
    }

    const std::string tag = uniqueTag(spec->name);
    const fs::path part = request.targetDir / (tag + ".zip.part");
    const fs::path staging = request.targetDir / (tag + ".extract");
    Leftovers leftovers;
    leftovers.add(part);
    leftovers.add(staging);

    Hasher hasher;
    {
        Fd fd(::open(part.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        if (fd.get() < 0)
            throw TransferError(errnoText(part, "create"));
        TransferSink sink;
        sink.fd = fd.get();
        sink.hasher = &hasher;
        sink.progress = &throttle;
        sink.cancel = cancel;
        sink.fileLimit =
            request.maxArchiveBytes > 0 ? request.maxArchiveBytes : spec->approxBytes * 2 + (std::uint64_t(64) << 20);
        fetch(result.url, sink);
        if (!fd.close())
            throw TransferError(errnoText(part, "write"));
        result.archiveBytes = sink.bytes;
        throttle.report(DownloadStage::Downloading, sink.bytes, sink.bytes, true);
    }
    throttle.report(DownloadStage::Verifying, result.archiveBytes, result.archiveBytes, true);
    FileDigests digests = hasher.finish();
    if (digests.md5 != md5)
        throw TransferError(result.url + ": checksum mismatch: expected MD5 " + md5 + ", got " + digests.md5 + " (" +
                            std::to_string(result.archiveBytes) +
                            " bytes); the download is damaged or the archive changed upstream, so nothing was extracted");
    result.md5 = digests.md5;
    result.sha256 = digests.sha256;

    std::vector<std::string> files = extractZipSafely(part, staging, progress, cancel);
    // GroupLens archives hold one top folder (ml-10m's is "ml-10M100K"); its content becomes the
    // dataset folder, named after the catalogue entry.
    fs::path content = staging;
    std::string top = files.empty() ? std::string() : files.front().substr(0, files.front().find('/') + 1);
    bool oneTop = !top.empty() && top.back() == '/' &&
                  std::all_of(files.begin(), files.end(), [&](const std::string& f) { return f.rfind(top, 0) == 0; });
    if (oneTop) {
        content = staging / top.substr(0, top.size() - 1);
        for (auto& f : files)
            f = f.substr(top.size());
    }
    for (const auto& f : files) {
        std::error_code sizeError;
        result.extractedBytes += fs::file_size(content / f, sizeError);
    }
    result.files = files;

    nlohmann::json marker = {{"name", spec->name},     {"url", result.url},
                             {"md5", result.md5},       {"sha256", result.sha256},
                             {"archive_bytes", result.archiveBytes}, {"extracted_bytes", result.extractedBytes},
                             {"files", files},
                             {"downloaded", isoTimestampNow(false)}};
    writeFileWhole((content / kMarkerName).string(), marker.dump(2) + "\n");

    const fs::path keptZip = request.targetDir / (spec->name + ".zip");
    if (request.keepArchive) {
        fs::rename(part, keptZip, ec);
        if (ec)
            throw TransferError(keptZip.string() + ": cannot keep the archive: " + ec.message());
        leftovers.add(keptZip);
    }
    const fs::path old = request.targetDir / (tag + ".old");
    if (fs::exists(finalDir)) {
        fs::rename(finalDir, old, ec);
        if (ec)
            throw TransferError(finalDir.string() + ": cannot replace it: " + ec.message());
        leftovers.add(old);
    }
    fs::rename(content, finalDir, ec);
    if (ec) {
        std::error_code restore;
        if (fs::exists(old))
            fs::rename(old, finalDir, restore);
        throw TransferError(finalDir.string() + ": cannot move the extracted files there: " + ec.message());
    }
    leftovers.forget(keptZip);
    result.datasetDir = finalDir;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    throttle.report(DownloadStage::Done, result.archiveBytes, result.archiveBytes, true);
    return result; // Leftovers removes the part file, the staging folder and a replaced folder
}

} // namespace reclab
