#include "util/Files.h"

#include "util/Error.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <streambuf>

#include <fcntl.h>
#include <sys/stat.h>
#include <limits.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace reclab {

namespace {

std::string folderOf(const std::string& path)
{
    const fs::path parent = fs::path(path).parent_path();
    return parent.empty() ? std::string(".") : parent.string();
}

// Fault injection for the tests of full disks (documented in tests/store/test_faults.cpp):
// RECLAB_FAULT_DISK_BYTES=N makes every write through AtomicFileWriter fail with ENOSPC once
// the process has written N bytes that way, as a full disk would.
std::atomic<long long> injectedBudget{0};

bool injectedDiskFull(size_t bytes)
{
    static const bool enabled = [] {
        const char* env = std::getenv("RECLAB_FAULT_DISK_BYTES");
        if (!env || !*env)
            return false;
        injectedBudget.store(std::atoll(env));
        return true;
    }();
    return enabled && injectedBudget.fetch_sub(static_cast<long long>(bytes)) < static_cast<long long>(bytes);
}

} // namespace

std::string executablePath(const std::string& fallback)
{
    char self[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    return n > 0 ? std::string(self, static_cast<size_t>(n)) : fallback;
}

std::string fileTypeName(unsigned mode)
{
    if (S_ISREG(mode))
        return "";
    if (S_ISDIR(mode))
        return "a folder";
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

namespace {

[[noreturn]] void throwStatFailure(const std::string& path, int error)
{
    if (error == ENOENT || error == ENOTDIR)
        throw DataError(path, 0, "", "no such file or folder");
    if (error == ELOOP)
        throw DataError(path, 0, "", "a loop of symbolic links");
    if (error == EACCES)
        throw DataError(path, 0, "", "permission denied");
    throw DataError(path, 0, "", std::string("cannot read: ") + std::strerror(error));
}

} // namespace

void requireRegularFile(const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throwStatFailure(path, errno);
    if (!S_ISREG(st.st_mode))
        throw DataError(path, 0, "", fileTypeName(st.st_mode) + ", not a regular file; expected a file");
}

void requireFolder(const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throwStatFailure(path, errno);
    if (!S_ISDIR(st.st_mode))
        throw DataError(path, 0, "",
                        (S_ISREG(st.st_mode) ? std::string("a file") : fileTypeName(st.st_mode)) +
                            ", not a folder; expected a folder");
}

bool isRegularFile(const std::string& path)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

ReadableFile::ReadableFile(std::string path) : path_(std::move(path))
{
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd_ < 0)
        throwStatFailure(path_, errno);
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
        const unsigned mode = st.st_mode;
        ::close(fd_);
        fd_ = -1;
        throw DataError(path_, 0, "", fileTypeName(mode) + ", not a regular file; expected a file");
    }
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
    size_ = static_cast<size_t>(st.st_size);
}

ReadableFile::~ReadableFile()
{
    if (fd_ >= 0)
        ::close(fd_);
}

size_t ReadableFile::read(void* out, size_t n, size_t offset) const
{
    size_t done = 0;
    while (done < n) {
        const ssize_t got = ::pread(fd_, static_cast<char*>(out) + done, n - done, static_cast<off_t>(offset + done));
        if (got < 0) {
            if (errno == EINTR)
                continue;
            throw IoError(path_ + ": read error: " + std::strerror(errno));
        }
        if (got == 0)
            break;
        done += static_cast<size_t>(got);
    }
    return done;
}

std::string ReadableFile::readAll(size_t maxBytes, const char* what) const
{
    if (size_ > maxBytes)
        throw DataError(path_, 0, "", "larger than " + std::to_string(maxBytes >> 20) + " MiB; not " + what);
    std::string text(size_, '\0');
    text.resize(read(text.data(), size_, 0));
    return text;
}

std::string readWholeFile(const std::string& path, size_t maxBytes, const char* what)
{
    return ReadableFile(path).readAll(maxBytes, what);
}

void throwWriteFailure(const std::string& path, int error)
{
    // Where the user pointed is not writable: their input (exit 2). Space and I/O: work (exit 1).
    switch (error) {
    case EACCES:
    case EPERM:
    case EROFS:
    case ENOENT:
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
    case ENAMETOOLONG: throw Error(writeFailureMessage(path, error));
    default: throw IoError(writeFailureMessage(path, error));
    }
}

std::string writeFailureMessage(const std::string& path, int error)
{
    switch (error) {
    case ENOSPC:
    case EDQUOT: return "disk full: " + path;
    case EROFS: return path + ": the file system is read-only";
    case EACCES:
    case EPERM: return folderOf(path) + ": permission denied (cannot write " + fs::path(path).filename().string() + ")";
    case ENOENT: return folderOf(path) + ": no such folder";
    case ENOTDIR: return folderOf(path) + ": not a folder";
    case EISDIR: return path + ": a folder is in the way";
    case ELOOP: return path + ": a loop of symbolic links";
    case ENAMETOOLONG: return path + ": the name is too long";
    case EFBIG: return path + ": the file is too large for this file system";
    default: return path + ": cannot write: " + std::strerror(error);
    }
}

struct AtomicFileWriter::Stream : std::streambuf {
    explicit Stream(AtomicFileWriter& owner) : owner(owner), out(this) {}
    int_type overflow(int_type c) override
    {
        if (c != traits_type::eof()) {
            const char ch = traits_type::to_char_type(c);
            owner.writeTolerant(&ch, 1);
        }
        return traits_type::not_eof(c);
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override
    {
        owner.writeTolerant(s, static_cast<size_t>(n));
        return n;
    }
    AtomicFileWriter& owner;
    std::ostream out;
};

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)), partial_(path_ + ".part")
{
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        throw Error(path_ + ": " + fileTypeName(st.st_mode) + " is in the way of the file");
    fd_ = ::open(partial_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throwWriteFailure(path_, errno);
}

AtomicFileWriter::~AtomicFileWriter()
{
    if (fd_ >= 0)
        ::close(fd_);
    if (!committed_)
        ::unlink(partial_.c_str());
}

bool AtomicFileWriter::writeTolerant(const void* data, size_t bytes) noexcept
{
    if (firstError_ != 0)
        return false;
    if (injectedDiskFull(bytes)) {
        firstError_ = ENOSPC;
        return false;
    }
    const char* p = static_cast<const char*>(data);
    while (bytes > 0) {
        const ssize_t n = ::write(fd_, p, bytes);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            firstError_ = errno;
            return false;
        }
        p += n;
        bytes -= static_cast<size_t>(n);
    }
    return true;
}

void AtomicFileWriter::fail(int error)
{
    ::close(fd_);
    fd_ = -1;
    ::unlink(partial_.c_str()); // frees the space at once, so the failure can still be recorded
    throwWriteFailure(path_, error);
}

void AtomicFileWriter::write(const void* data, size_t bytes)
{
    if (!writeTolerant(data, bytes))
        fail(firstError_);
}

std::function<size_t(const void*, size_t)> AtomicFileWriter::tolerantSink()
{
    return [this](const void* data, size_t bytes) {
        writeTolerant(data, bytes);
        return bytes;
    };
}

std::ostream& AtomicFileWriter::tolerantStream()
{
    if (!stream_)
        stream_ = std::make_unique<Stream>(*this);
    return stream_->out;
}

void AtomicFileWriter::commit()
{
    if (firstError_ != 0)
        fail(firstError_);
    // The bytes are on disk before the name points at them: some file systems report a full
    // disk only here, and a crash must not leave a renamed but empty file.
    if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS)
        fail(errno);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0 && errno != EINTR) {
        const int error = errno;
        ::unlink(partial_.c_str());
        throwWriteFailure(path_, error);
    }
    if (::rename(partial_.c_str(), path_.c_str()) != 0) {
        const int error = errno;
        ::unlink(partial_.c_str());
        throwWriteFailure(path_, error);
    }
    committed_ = true;
}

void writeFileWhole(const std::string& path, std::string_view text)
{
    AtomicFileWriter out(path);
    out.write(text);
    out.commit();
}

void copyFileWhole(const std::string& from, const std::string& to)
{
    const ReadableFile in(from);
    AtomicFileWriter out(to);
    std::string buffer(size_t{1} << 20, '\0');
    for (size_t offset = 0; offset < in.size();) {
        const size_t got = in.read(buffer.data(), buffer.size(), offset);
        if (got == 0)
            break;
        out.write(buffer.data(), got);
        offset += got;
    }
    out.commit();
}

void createFolders(const std::string& dir)
{
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!ec)
        return;
    // Name the first part of the path that is in the way or cannot be made.
    fs::path partial;
    for (const auto& part : fs::path(dir)) {
        partial /= part;
        struct stat st {};
        if (::stat(partial.c_str(), &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                throw Error(partial.string() + ": " +
                            (S_ISREG(st.st_mode) ? std::string("a file") : fileTypeName(st.st_mode)) +
                            " is in the way of the folder " + dir);
            continue;
        }
        if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
            const int error = errno;
            if (error == ENOSPC || error == EDQUOT)
                throw IoError("disk full: " + partial.string());
            if (error == EACCES || error == EPERM || error == EROFS)
                throw Error(partial.string() + ": cannot make the folder: " + std::strerror(error));
            throw IoError(partial.string() + ": cannot make the folder: " + std::strerror(error));
        }
    }
    throw IoError(dir + ": cannot make the folder: " + ec.message());
}

} // namespace reclab
