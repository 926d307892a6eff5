// Extracting a downloaded zip archive safely: names that would leave the folder are refused,
// sizes are capped, every file is created new and written whole, and cancelling stops it.
#include "data/DownloadParts.h"

#include "util/Error.h"

#include <zip.h>

#include <fcntl.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace reclab {

using namespace download;

namespace {

std::string unsafeNameReason(const std::string& name)
{
    if (name.empty())
        return "an empty name";
    if (name.find('\\') != std::string::npos)
        return "a backslash in the path";
    if (name.front() == '/')
        return "an absolute path";
    if (name.size() >= 2 && name[1] == ':' && std::isalpha(static_cast<unsigned char>(name[0])))
        return "a drive letter";
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find('/', start);
        if (end == std::string::npos)
            end = name.size();
        if (name.compare(start, end - start, "..") == 0 && end - start == 2)
            return "a '..' component that leaves the folder";
        start = end + 1;
    }
    return {};
}

std::string zipErrorText(int code)
{
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    return text;
}

struct ZipEntry {
    zip_uint64_t index;
    std::string name;
    bool directory;
    std::uint64_t size;
};

} // namespace

std::vector<std::string> extractZipSafely(const fs::path& zipPath, const fs::path& destDir,
                                          const DownloadProgressFn& progress, const std::atomic<bool>* cancel,
                                          std::uint64_t maxBytes)
{
    const std::string archive = zipPath.string();
    int openError = 0;
    std::unique_ptr<zip_t, decltype(&zip_discard)> za(zip_open(archive.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &openError),
                                                       zip_discard);
    if (!za)
        throw TransferError(archive + ": not a readable zip archive (" + zipErrorText(openError) + ")");

    // First pass: every entry is checked before a single byte is written.
    std::vector<ZipEntry> entries;
    std::uint64_t totalBytes = 0;
    zip_int64_t count = zip_get_num_entries(za.get(), 0);
    for (zip_int64_t i = 0; i < count; ++i) {
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(za.get(), zip_uint64_t(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME))
            throw TransferError(archive + ": entry " + std::to_string(i) + " cannot be read (" +
                                zip_strerror(za.get()) + ")");
        std::string name = st.name;
        auto refuse = [&](const std::string& reason) {
            throw TransferError(archive + ": entry '" + name + "' refused: " + reason + "; nothing was extracted");
        };
        if (std::string reason = unsafeNameReason(name); !reason.empty())
            refuse(reason);
        zip_uint8_t system = 0;
        zip_uint32_t attributes = 0;
        if (zip_file_get_external_attributes(za.get(), zip_uint64_t(i), 0, &system, &attributes) == 0
            && system == ZIP_OPSYS_UNIX) {
            unsigned type = (attributes >> 16) & S_IFMT;
            if (type == S_IFLNK)
                refuse("a symbolic link");
            if (type != 0 && type != S_IFREG && type != S_IFDIR)
                refuse("a device, pipe or socket");
        }
        if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
            refuse("it is encrypted");
        bool directory = name.back() == '/';
        std::uint64_t size = (st.valid & ZIP_STAT_SIZE) ? st.size : 0;
        totalBytes += size;
        if (totalBytes > maxBytes)
            refuse("the archive would expand to more than " + std::to_string(maxBytes >> 20) + " MiB");
        entries.push_back({zip_uint64_t(i), name, directory, size});
    }

    std::error_code ec;
    if (!fs::create_directory(destDir, ec) || ec)
        throw TransferError(destDir.string() + ": cannot create the extraction folder" +
                            (ec ? ": " + ec.message() : std::string(" (it exists already)")));
    Leftovers leftovers;
    leftovers.add(destDir);

    ProgressThrottle throttle(progress);
    std::vector<std::string> files;
    std::vector<char> buffer(kChunk);
    std::uint64_t written = 0;
    for (const auto& entry : entries) {
        fs::path target = destDir / entry.name;
        if (entry.directory) {
            fs::create_directories(target, ec);
            if (ec)
                throw TransferError(target.string() + ": cannot create folder: " + ec.message());
            continue;
        }
        fs::create_directories(target.parent_path(), ec);
        if (ec)
            throw TransferError(target.parent_path().string() + ": cannot create folder: " + ec.message());
        std::unique_ptr<zip_file_t, decltype(&zip_fclose)> in(zip_fopen_index(za.get(), entry.index, 0), zip_fclose);
        if (!in)
            throw TransferError(archive + ": entry '" + entry.name + "' cannot be opened (" + zip_strerror(za.get()) + ")");
        Fd out(::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (out.get() < 0)
            throw TransferError(errnoText(target, "create"));
        std::uint64_t entryBytes = 0;
        for (;;) {
            if (cancelled(cancel))
                throw CancelledError("extraction of " + archive + " cancelled");
            zip_int64_t n = zip_fread(in.get(), buffer.data(), buffer.size());
            if (n < 0)
                throw TransferError(archive + ": entry '" + entry.name + "' is damaged (" + zip_file_strerror(in.get()) + ")");
            if (n == 0)
                break;
            entryBytes += std::uint64_t(n);
            if (entryBytes > entry.size)
                throw TransferError(archive + ": entry '" + entry.name + "' holds more data than its header declares");
            if (!writeAll(out.get(), buffer.data(), size_t(n)))
                throw TransferError(errnoText(target, "write"));
            written += std::uint64_t(n);
            throttle.report(DownloadStage::Extracting, written, totalBytes);
        }
        if (entryBytes != entry.size)
            throw TransferError(archive + ": entry '" + entry.name + "' is truncated");
        if (!out.close())
            throw TransferError(errnoText(target, "write"));
        files.push_back(entry.name);
    }
    throttle.report(DownloadStage::Extracting, written, totalBytes, true);
    leftovers.release();
    return files;
}

} // namespace reclab
