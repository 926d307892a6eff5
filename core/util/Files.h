// Checked access to the files RecLab reads and writes.
//
// Reading: only regular files. A FIFO would block forever, a device never ends, a folder is not
// a file; each is refused naming what it is. Files are opened without blocking and checked on
// the open descriptor, so nothing can be swapped in between.
//
// Writing: whole or not at all. Bytes go to <path>.part and are renamed over the file once they
// are all on disk; a failure removes the partial file. Every failure names the file ("disk
// full: <path>", see throwWriteFailure), never a crash: LibTorch's archive writer terminates the process
// when its sink fails (it throws from a destructor), so torch writes go through a tolerant sink
// that records the failure instead, and commit() reports it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace reclab {

// What a file mode is, for messages ("a FIFO (named pipe)", "a folder"); empty for a regular file.
std::string fileTypeName(unsigned mode);

// The path of the running program (Linux's /proc/self/exe); fallback when it cannot be read.
std::string executablePath(const std::string& fallback = {});

// Throws DataError naming path unless it is a regular file (symbolic links followed).
void requireRegularFile(const std::string& path);
// Throws DataError naming path unless it is a folder.
void requireFolder(const std::string& path);
// Whether path is a regular file (symbolic links followed); false for anything else or nothing.
bool isRegularFile(const std::string& path);

// A regular file open for reading; closes itself. Throws DataError when path is missing,
// unreadable or not a regular file.
class ReadableFile {
public:
    explicit ReadableFile(std::string path);
    ~ReadableFile();
    ReadableFile(const ReadableFile&) = delete;
    ReadableFile& operator=(const ReadableFile&) = delete;

    const std::string& path() const { return path_; }
    size_t size() const { return size_; }
    // Reads up to n bytes at offset; returns how many (fewer only at the end). Throws IoError.
    size_t read(void* out, size_t n, size_t offset) const;
    // The whole file; DataError when it is larger than maxBytes (what: "a graph", for the message).
    std::string readAll(size_t maxBytes = static_cast<size_t>(-1), const char* what = "this file") const;

private:
    std::string path_;
    int fd_ = -1;
    size_t size_ = 0;
};

// The whole content of a regular file (see ReadableFile).
std::string readWholeFile(const std::string& path, size_t maxBytes = static_cast<size_t>(-1),
                          const char* what = "this file");

// Replaces the file at path whole or not at all.
class AtomicFileWriter {
public:
    // Opens <path>.part; IoError naming the folder when files cannot be made there.
    explicit AtomicFileWriter(std::string path);
    // Removes the partial file unless commit() succeeded.
    ~AtomicFileWriter();
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

    const std::string& path() const { return path_; }
    // Throws IoError on the first failure.
    void write(const void* data, size_t bytes);
    void write(std::string_view text) { write(text.data(), text.size()); }
    // For writers that must never see a failure (LibTorch's): a sink and a stream that always
    // accept the bytes and remember the first failure for commit(). Valid while this lives.
    std::function<size_t(const void*, size_t)> tolerantSink();
    std::ostream& tolerantStream();
    // Flushes, syncs and renames the file into place; throws IoError (the first failure seen,
    // and the partial file removed) when any write failed.
    void commit();

private:
    bool writeTolerant(const void* data, size_t bytes) noexcept;
    [[noreturn]] void fail(int error);

    std::string path_, partial_;
    int fd_ = -1;
    int firstError_ = 0;
    bool committed_ = false;
    struct Stream;
    std::unique_ptr<Stream> stream_;
};

// Replaces path with text whole or not at all; IoError naming the file when it cannot.
void writeFileWhole(const std::string& path, std::string_view text);
// Copies a regular file the same whole-or-nothing way.
void copyFileWhole(const std::string& from, const std::string& to);
// Makes dir and its parents; IoError naming the folder and why when it cannot.
void createFolders(const std::string& dir);

// The message for a failed write of path with errno error ("disk full: <path>",
// "<path>: the file system is read-only", ...).
std::string writeFailureMessage(const std::string& path, int error);
// Throws it: an Error (the user's input: exit 2) when the place cannot be written (permission,
// read-only file system, no such folder, a folder in the way), an IoError (a failure while
// working: exit 1) for a full disk and other I/O failures.
[[noreturn]] void throwWriteFailure(const std::string& path, int error);

} // namespace reclab
