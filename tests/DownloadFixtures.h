// Test fixtures for the downloader: a small HTTP/1.1 server on 127.0.0.1 (ephemeral port, its
// own thread) and zip archives built with libzip, including MovieLens-100K from ../shared.
#pragma once

#include "data/Downloader.h"

#include <zip.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace reclab::test {

// Serves fixed bodies by path; unknown paths get 404. Each body can be sent in chunks with a
// pause between them, so a test can cancel a transfer half-way.
class LocalHttpServer {
public:
    struct Route {
        std::string body;
        int status = 200;
        size_t chunk = 0;   // 0: all at once
        int pauseMs = 0;    // between chunks
    };

    LocalHttpServer()
    {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        socklen_t length = sizeof addr;
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0
            || ::listen(listener_, 8) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &length) != 0)
            throw std::runtime_error("cannot listen on 127.0.0.1");
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { loop(); });
    }
    ~LocalHttpServer()
    {
        stop_ = true;
        thread_.join();
        ::close(listener_);
    }
    LocalHttpServer(const LocalHttpServer&) = delete;
    LocalHttpServer& operator=(const LocalHttpServer&) = delete;

    void serve(const std::string& path, Route route)
    {
        std::lock_guard<std::mutex> lock(mutex_);
        routes_[path] = std::move(route);
    }
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
    int hits(const std::string& path) const
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = hits_.find(path);
        return it == hits_.end() ? 0 : it->second;
    }

private:
    void loop()
    {
        while (!stop_) {
            pollfd p{listener_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0)
                continue;
            int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0)
                continue;
            handle(client);
            ::close(client);
        }
    }

    void handle(int client)
    {
        std::string request;
        char buffer[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
            ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
            if (n <= 0)
                return;
            request.append(buffer, size_t(n));
        }
        std::istringstream line(request.substr(0, request.find("\r\n")));
        std::string method, path;
        line >> method >> path;
        Route route;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++hits_[path];
            auto it = routes_.find(path);
            if (it == routes_.end())
                route = Route{"not found\n", 404};
            else
                route = it->second;
        }
        std::string head = "HTTP/1.1 " + std::to_string(route.status) + (route.status == 200 ? " OK" : " Error") +
                           "\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                           std::to_string(route.body.size()) + "\r\nConnection: close\r\n\r\n";
        if (!sendAll(client, head.data(), head.size()))
            return;
        size_t chunk = route.chunk ? route.chunk : route.body.size();
        for (size_t at = 0; at < route.body.size() && !stop_; at += chunk) {
            if (!sendAll(client, route.body.data() + at, std::min(chunk, route.body.size() - at)))
                return; // the client hung up (a cancelled download)
            if (route.pauseMs)
                std::this_thread::sleep_for(std::chrono::milliseconds(route.pauseMs));
        }
    }

    static bool sendAll(int fd, const char* data, size_t size)
    {
        while (size > 0) {
            ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            data += n;
            size -= size_t(n);
        }
        return true;
    }

    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    mutable std::mutex mutex_;
    std::map<std::string, Route> routes_;
    std::map<std::string, int> hits_;
};

// One entry of a zip built by makeZip. A symlink entry stores its target as the content.
struct ZipEntrySpec {
    std::string name;
    std::string content;
    bool symlink = false;
};

inline std::string readWholeFile(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writes a deflated zip with the given entries to path and returns its bytes.
inline std::string makeZip(const std::filesystem::path& path, const std::vector<ZipEntrySpec>& entries)
{
    std::filesystem::remove(path);
    int error = 0;
    zip_t* za = zip_open(path.c_str(), ZIP_CREATE | ZIP_EXCL, &error);
    if (!za)
        throw std::runtime_error("cannot create " + path.string());
    for (const auto& e : entries) {
        if (!e.name.empty() && e.name.back() == '/' && !e.symlink) {
            if (zip_dir_add(za, e.name.c_str(), ZIP_FL_ENC_UTF_8) < 0) {
                zip_discard(za);
                throw std::runtime_error("cannot add folder " + e.name + " to " + path.string());
            }
            continue;
        }
        zip_source_t* source = zip_source_buffer(za, e.content.data(), e.content.size(), 0);
        zip_int64_t index = zip_file_add(za, e.name.c_str(), source, ZIP_FL_ENC_UTF_8);
        if (index < 0) {
            zip_source_free(source);
            zip_discard(za);
            throw std::runtime_error("cannot add " + e.name + " to " + path.string());
        }
        if (e.symlink)
            zip_file_set_external_attributes(za, zip_uint64_t(index), 0, ZIP_OPSYS_UNIX, zip_uint32_t(S_IFLNK | 0777) << 16);
    }
    if (zip_close(za) != 0)
        throw std::runtime_error("cannot write " + path.string());
    return readWholeFile(path);
}

// The MovieLens-100K folder as GroupLens packs it: every file under one "ml-100k/" folder.
inline std::string makeMl100kZip(const std::filesystem::path& path, const std::filesystem::path& ml100kDir,
                                 const std::string& top = "ml-100k/")
{
    std::vector<ZipEntrySpec> entries{{top, {}}};
    std::vector<std::filesystem::path> files;
    for (const auto& f : std::filesystem::directory_iterator(ml100kDir))
        if (f.is_regular_file())
            files.push_back(f.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
        entries.push_back({top + f.filename().string(), readWholeFile(f)});
    return makeZip(path, entries);
}

// MovieLens-100K zipped at zipPath and served at /ml-100k.zip, and slowly (16 KiB every 40 ms)
// at /slow/ml-100k.zip for cancelling.
struct ServedMl100k {
    ServedMl100k(const std::filesystem::path& zipPath, const std::filesystem::path& ml100kDir)
        : zip(makeMl100kZip(zipPath, ml100kDir)), md5(digestFile(zipPath).md5)
    {
        server.serve("/ml-100k.zip", {zip});
        server.serve("/slow/ml-100k.zip", {zip, 200, 16 * 1024, 40});
    }
    std::string zip, md5;
    LocalHttpServer server;
};

} // namespace reclab::test
