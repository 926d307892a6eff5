// The other ranks of a run on several processes of this machine (reclab-cli train --processes N,
// the workbench's processes): started as the same program with torchrun's variables in their
// environment, each one's messages kept in a file so that rank 0 can say why one ended, and
// ended by rank 0 when it is done with them. Torch-free (POSIX processes).
#pragma once

#include "dist/World.h"

#include <string>
#include <sys/types.h>
#include <vector>

namespace reclab {

class LocalRanks {
public:
    // Starts ranks 1 .. world.size - 1: program with args (argv[0] is program), stdout to
    // /dev/null, stderr to a file each. Throws Error when one cannot be started (those started
    // are ended).
    LocalRanks(const std::string& program, const std::vector<std::string>& args, const World& world);
    // Ends those still running: SIGTERM, then SIGKILL after a few seconds.
    ~LocalRanks();
    LocalRanks(const LocalRanks&) = delete;
    LocalRanks& operator=(const LocalRanks&) = delete;

    // The process id of each rank started (rank 1 first).
    std::vector<pid_t> pids() const;
    // The ranks that ended with a failure so far, one line each with the last line they
    // wrote ("rank 2 (pid 4242) was killed by signal 9"); waits up to graceSeconds for one to
    // end when none has yet. Empty when none failed.
    std::string failures(double graceSeconds = 1.0);
    // Waits up to seconds for all to end (then ends them); the failures, as failures() says them.
    std::string finish(double seconds);

private:
    struct Rank {
        int rank;
        pid_t pid;
        std::string log;
        bool ended = false;
        int status = 0;
    };
    bool reap(Rank& r, bool block);
    std::string describe(const Rank& r) const;
    void endAll();

    std::vector<Rank> ranks_;
    std::string folder_;
};

} // namespace reclab
