#include "dist/LocalRanks.h"

#include "util/Error.h"
#include "util/TextFile.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace reclab {

namespace {

// This process's environment without the variables of a launch, then the rank's own.
std::vector<std::string> environmentFor(const World& world, int rank)
{
    static const char* const kOwn[] = {"RANK=",
                                       "WORLD_SIZE=",
                                       "LOCAL_RANK=",
                                       "LOCAL_WORLD_SIZE=",
                                       "MASTER_ADDR=",
                                       "MASTER_PORT=",
                                       "TORCHELASTIC_USE_AGENT_STORE=",
                                       "GROUP_RANK="};
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        const std::string entry(*e);
        bool own = false;
        for (const char* prefix : kOwn)
            own = own || entry.rfind(prefix, 0) == 0;
        if (!own)
            env.push_back(entry);
    }
    for (auto& entry : rankEnvironment(world, rank))
        env.push_back(std::move(entry));
    return env;
}

std::string lastLineOf(const std::string& path)
{
    std::ifstream in(path);
    std::string line, last;
    while (std::getline(in, line))
        if (!line.empty())
            last = line;
    return last;
}

} // namespace

LocalRanks::LocalRanks(const std::string& program, const std::vector<std::string>& args, const World& world)
{
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/reclab-ranks-XXXXXX";
    if (!::mkdtemp(pattern.data()))
        throw Error("cannot make a folder for the ranks' messages in " + std::string(tmp && *tmp ? tmp : "/tmp") +
                    ": " + std::strerror(errno));
    folder_ = pattern;
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (int rank = 1; rank < world.size; ++rank) {
        const std::vector<std::string> env = environmentFor(world, rank);
        std::vector<char*> envp;
        for (const auto& e : env)
            envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);
        const std::string log = folder_ + "/rank-" + std::to_string(rank) + ".log";
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        pid_t pid = 0;
        const int failed = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        if (failed != 0) {
            endAll();
            throw Error("cannot start rank " + std::to_string(rank) + " (" + program + "): " + std::strerror(failed));
        }
        ranks_.push_back({rank, pid, log});
    }
}

LocalRanks::~LocalRanks()
{
    endAll();
    std::error_code ignored;
    std::filesystem::remove_all(folder_, ignored);
}

std::vector<pid_t> LocalRanks::pids() const
{
    std::vector<pid_t> out;
    for (const auto& r : ranks_)
        out.push_back(r.pid);
    return out;
}

bool LocalRanks::reap(Rank& r, bool block)
{
    if (r.ended)
        return true;
    int status = 0;
    pid_t got = 0;
    do
        got = ::waitpid(r.pid, &status, block ? 0 : WNOHANG);
    while (got < 0 && errno == EINTR);
    if (got == r.pid || got < 0) { // < 0: not our child any more (already reaped)
        r.ended = true;
        r.status = got == r.pid ? status : 0;
    }
    return r.ended;
}

std::string LocalRanks::describe(const Rank& r) const
{
    std::string what = "rank " + std::to_string(r.rank) + " (pid " + std::to_string(r.pid) + ")";
    if (WIFSIGNALED(r.status))
        what +=
            " was killed by signal " + std::to_string(WTERMSIG(r.status)) + " (" + strsignal(WTERMSIG(r.status)) + ")";
    else
        what += " ended with exit code " + std::to_string(WEXITSTATUS(r.status));
    if (const std::string last = lastLineOf(r.log); !last.empty())
        what += ": " + oneLine(last);
    return what;
}

std::string LocalRanks::failures(double graceSeconds)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(graceSeconds);
    for (;;) {
        std::string out;
        for (auto& r : ranks_)
            if (reap(r, false) &&
                !(WIFEXITED(r.status) && (WEXITSTATUS(r.status) == 0 || WEXITSTATUS(r.status) == 130)))
                out += (out.empty() ? "" : "; ") + describe(r);
        if (!out.empty() || std::chrono::steady_clock::now() > deadline)
            return out;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::string LocalRanks::finish(double seconds)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
        bool all = true;
        for (auto& r : ranks_)
            all = reap(r, false) && all;
        if (all || std::chrono::steady_clock::now() > deadline)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    endAll();
    return failures(0);
}

void LocalRanks::endAll()
{
    for (auto& r : ranks_)
        if (!reap(r, false))
            ::kill(r.pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (auto& r : ranks_) {
        while (!reap(r, false) && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (!r.ended) {
            ::kill(r.pid, SIGKILL);
            reap(r, true);
        }
    }
}

} // namespace reclab
