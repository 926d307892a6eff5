#include "dist/World.h"

#include "util/Error.h"
#include "util/TextFile.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace reclab {

namespace {

const char* variable(const char* name)
{
    const char* value = std::getenv(name);
    return value && *value ? value : nullptr;
}

long wholeVariable(const char* name, long lo, long hi)
{
    const char* text = variable(name);
    if (!text)
        throw ConfigError(name, "is not set, but the other variables of a distributed launch are (torchrun sets RANK, "
                                "WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT)");
    long long value = 0;
    if (!parseInt64(text, value) || value < lo || value > hi)
        throw ConfigError(name, "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) +
                                    ", got '" + text + "'");
    return static_cast<long>(value);
}

} // namespace

std::string World::describe() const
{
    return "rank " + std::to_string(rank) + " of " + std::to_string(size);
}

double distributedTimeoutSeconds()
{
    const char* text = variable("RECLAB_DIST_TIMEOUT");
    if (!text)
        return 300.0;
    char* end = nullptr;
    const double value = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(value >= 1.0 && value <= 86400.0))
        throw ConfigError("RECLAB_DIST_TIMEOUT", std::string("expected seconds from 1 to 86400, got '") + text + "'");
    return value;
}

std::optional<World> worldFromEnvironment()
{
    if (!variable("RANK") && !variable("WORLD_SIZE"))
        return std::nullopt;
    World w;
    w.size = static_cast<int>(wholeVariable("WORLD_SIZE", 1, 65536));
    w.rank = static_cast<int>(wholeVariable("RANK", 0, w.size - 1));
    w.localRank = variable("LOCAL_RANK") ? static_cast<int>(wholeVariable("LOCAL_RANK", 0, w.size - 1)) : 0;
    w.localSize = variable("LOCAL_WORLD_SIZE") ? static_cast<int>(wholeVariable("LOCAL_WORLD_SIZE", 1, w.size)) : 1;
    w.timeoutSeconds = distributedTimeoutSeconds();
    if (w.size == 1)
        return w; // nothing to meet: MASTER_ADDR and MASTER_PORT are not needed
    const char* addr = variable("MASTER_ADDR");
    if (!addr)
        throw ConfigError("MASTER_ADDR", "is not set: the address of rank 0's machine, where the ranks meet");
    w.masterAddr = addr;
    w.masterPort = static_cast<int>(wholeVariable("MASTER_PORT", 1, 65535));
    if (const char* agent = variable("TORCHELASTIC_USE_AGENT_STORE"); agent && std::string(agent) == "True") {
        w.agentStore = true;
        const char* attempt = variable("TORCHELASTIC_RESTART_COUNT");
        w.storePrefix = std::string("/worker/attempt_") + (attempt ? attempt : "0");
    }
    return w;
}

World localWorld(int size)
{
    World w;
    w.size = size;
    w.localSize = size;
    w.timeoutSeconds = distributedTimeoutSeconds();
    // A port free now: the kernel picks one, and it is let go for rank 0's store to take.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        throw Error(std::string("cannot open a socket for the ranks to meet: ") + std::strerror(errno));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                       ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
    const int error = errno;
    ::close(fd);
    if (!bound)
        throw Error(std::string("cannot find a free port on 127.0.0.1 for the ranks to meet: ") + std::strerror(error));
    w.masterPort = ntohs(address.sin_port);
    return w;
}

std::vector<std::string> rankEnvironment(const World& w, int rank)
{
    return {"RANK=" + std::to_string(rank),       "WORLD_SIZE=" + std::to_string(w.size),
            "LOCAL_RANK=" + std::to_string(rank), "LOCAL_WORLD_SIZE=" + std::to_string(w.size),
            "MASTER_ADDR=" + w.masterAddr,        "MASTER_PORT=" + std::to_string(w.masterPort)};
}

bool distributedTrainingBuilt()
{
    return !distributedBackends().empty();
}

std::string distributedBackends()
{
#if defined(RECLAB_HAVE_GLOO) && defined(RECLAB_HAVE_NCCL)
    return "gloo, nccl";
#elif defined(RECLAB_HAVE_GLOO)
    return "gloo";
#elif defined(RECLAB_HAVE_NCCL)
    return "nccl";
#else
    return "";
#endif
}

} // namespace reclab
