// The database file around SQLite: what is checked before SQLite opens it, and which
// processes have it open. See SCHEMA.md.
#include "store/StoreFile.h"

#include "store/ExperimentStore.h"
#include "store/WalFile.h"
#include "util/Error.h"
#include "util/Files.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace reclab {

namespace {

bool procReadable()
{
    static const bool readable = !processIdentity(::getpid()).empty();
    return readable;
}

// Connections this process has open, by file: SQLite's locks do not show them to fcntl.
std::mutex openStoresMutex;
std::map<std::string, int> openStores;

std::string storeKey(const std::string& path)
{
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(fs::path(path), ec);
    return ec ? path : canonical.string();
}

// Whether another process has the database open: every connection holds a shared lock on the
// "DMS" byte (128) of the -shm file while it is open (SQLite's unix VFS).
bool openElsewhere(const std::string& path)
{
    const int fd = ::open((path + "-shm").c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return false;
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = 128;
    lock.l_len = 1;
    const bool held = ::fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK;
    ::close(fd);
    return held;
}

// Checks, before SQLite opens path, that a write-ahead log beside it is its own: SQLite would
// replay any well-formed log into the file. A log whose page 1 carries another database's tag
// (or another application's), or a log of committed changes without page 1 (RecLab's writes
// always rewrite it), is refused. Returns whether the log holds committed changes.
bool requireOwnLog(const std::string& path)
{
    const std::string wal = path + "-wal";
    const auto log = readWalSummary(wal);
    if (!log || log->committedFrames == 0)
        return false;
    const auto file = readDatabaseHeader(path);
    // A file of schema 3 or older (no tag yet), or one not created yet: nothing to compare.
    if (!file || file->applicationId != static_cast<uint32_t>(kApplicationId) || tagOf(file->userVersion) == 0)
        return true;
    std::string why;
    if (log->pageSize != file->pageSize)
        why = "its pages are " + std::to_string(log->pageSize) + " bytes, the database's " +
              std::to_string(file->pageSize);
    else if (!log->pageOne)
        why = "it holds changes that RecLab did not write";
    else if (log->pageOne->applicationId != static_cast<uint32_t>(kApplicationId))
        why = "it holds changes of a database of another program";
    else if (tagOf(log->pageOne->userVersion) != tagOf(file->userVersion))
        why = "it holds changes of another RecLab database";
    if (why.empty())
        return true;
    throw StoreError(wal + " does not belong to " + path + " (" + why +
                     "); RecLab opened neither. Move it aside (with " + path +
                     "-shm, if there is one) and open the database again: it is then as of its last checkpoint");
}

} // namespace

// Whether the process that wrote (pid, identity) still runs. With an identity and a readable
// /proc, a pid now held by another program is not it.
bool processAlive(pid_t pid, const std::string& identity)
{
    if (pid <= 0)
        return false;
    if (!identity.empty() && procReadable())
        return processIdentity(pid) == identity;
    return ::kill(pid, 0) == 0 || errno == EPERM;
}

// The path, made ready for SQLite: its folder made, a non-file refused, its log checked.
std::string preparedStorePath(const std::string& path, bool& unclean)
{
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty())
        createFolders(parent.string());
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        throw StoreError(path + ": " + fileTypeName(st.st_mode) + ", not a database file");
    if (::stat(path.c_str(), &st) != 0) {
        const std::string dir = parent.empty() ? std::string(".") : parent.string();
        if (::access(dir.c_str(), W_OK | X_OK) != 0)
            throw StoreError(dir + ": cannot create the database " + fs::path(path).filename().string() + " there (" +
                             std::strerror(errno) + ")");
    }
    const bool pending = requireOwnLog(path);
    {
        const std::lock_guard<std::mutex> lock(openStoresMutex);
        const auto it = openStores.find(storeKey(path));
        unclean = pending && (it == openStores.end() || it->second == 0) && !openElsewhere(path);
    }
    return path;
}

void noteStoreOpened(const std::string& path)
{
    const std::lock_guard<std::mutex> lock(openStoresMutex);
    ++openStores[storeKey(path)];
}

void noteStoreClosed(const std::string& path)
{
    const std::lock_guard<std::mutex> lock(openStoresMutex);
    const auto it = openStores.find(storeKey(path));
    if (it != openStores.end() && --it->second == 0)
        openStores.erase(it);
}

int64_t newDatabaseTag()
{
    std::random_device device;
    std::uniform_int_distribution<int64_t> tag(1, (int64_t{1} << (31 - kSchemaBits)) - 1);
    return tag(device);
}

std::string processIdentity(int64_t pid)
{
    static const std::string boot = [] {
        std::ifstream in("/proc/sys/kernel/random/boot_id");
        std::string id;
        std::getline(in, id);
        return id;
    }();
    if (boot.empty() || pid <= 0)
        return {};
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    std::getline(in, stat);
    // The name (field 2) is in parentheses and may hold anything; fields 3.. follow the last ')'.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos)
        return {};
    size_t pos = close + 1;
    for (int field = 3; field < 22; ++field) {
        pos = stat.find(' ', pos + 1);
        if (pos == std::string::npos)
            return {};
    }
    const size_t end = stat.find(' ', pos + 1);
    return boot + "/" + stat.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
}

std::vector<std::string> filesIn(const std::string& folder)
{
    std::vector<std::string> out;
    std::error_code ec;
    const fs::path dir(folder);
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec))
            out.push_back(fs::relative(it->path(), dir, ec).generic_string());
    return out;
}

bool isPartialFile(const std::string& path)
{
    for (const char* suffix : {".part", ".saving"})
        if (path.size() >= std::strlen(suffix) && path.compare(path.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
            return true;
    return false;
}

} // namespace reclab
