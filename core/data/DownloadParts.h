// Pieces the downloader's files share (private to core/data): file descriptors written whole,
// errno messages, cancellation and throttled progress.
#pragma once

#include "data/Downloader.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>
#include <algorithm>

namespace reclab::download {

namespace fs = std::filesystem;

constexpr size_t kChunk = size_t(1) << 20;

inline std::string errnoText(const fs::path& path, const std::string& action)
{
    return path.string() + ": cannot " + action + ": " + std::strerror(errno);
}

inline bool writeAll(int fd, const char* data, size_t size)
{
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += n;
        size -= size_t(n);
    }
    return true;
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { close(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    bool close()
    {
        int fd = fd_;
        fd_ = -1;
        return fd < 0 || ::close(fd) == 0;
    }

private:
    int fd_;
};

// Throttles progress reports to about ten a second, always passing the first and last.
class ProgressThrottle {
public:
    explicit ProgressThrottle(const DownloadProgressFn& fn) : fn_(fn) {}
    void report(DownloadStage stage, std::uint64_t done, std::uint64_t total, bool force = false)
    {
        if (!fn_)
            return;
        auto now = std::chrono::steady_clock::now();
        if (!force && stage == last_.stage && now - lastTime_ < std::chrono::milliseconds(100))
            return;
        last_ = {stage, done, total};
        lastTime_ = now;
        fn_(last_);
    }

private:
    const DownloadProgressFn& fn_;
    DownloadProgress last_{DownloadStage::Done, 0, 0};
    std::chrono::steady_clock::time_point lastTime_{};
};

inline bool cancelled(const std::atomic<bool>* cancel)
{
    return cancel && cancel->load(std::memory_order_relaxed);
}

// Removes whatever a failed or cancelled download left (part file, extraction folder).
class Leftovers {
public:
    void add(fs::path path) { paths_.push_back(std::move(path)); }
    void release() { paths_.clear(); }
    void forget(const fs::path& path) { paths_.erase(std::remove(paths_.begin(), paths_.end(), path), paths_.end()); }
    ~Leftovers()
    {
        for (const auto& path : paths_) {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    }

private:
    std::vector<fs::path> paths_;
};

} // namespace reclab::download
