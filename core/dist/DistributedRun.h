// One run on several processes, as the CLI and the workbench start it. Rank 0 hosts it: it
// starts the local ranks when asked (--processes, the run setup's processes), meets every rank,
// hands each the run's configuration and checks that each loaded the same data, before the run
// is recorded; then its TrainingSession trains as rank 0 of the group. Every other rank joins:
// it loads its --data, takes the configuration from rank 0 and trains without writing anything.
// Torch-free.
#pragma once

#include "dist/World.h"
#include "runs/TrainConfig.h"

#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace reclab {

struct Dataset;
class LocalRanks;
class RankGroup;

// How rank 0 starts the other ranks on this machine: the training program (reclab-train) and
// its arguments, argv[0] first ("reclab-train", "train", "--data", DATA).
struct LocalLaunch {
    std::string program;
    std::vector<std::string> args;
};

// The reclab-train beside this program (the CLI's and the workbench's folder), or the one
// RECLAB_TRAIN_PROGRAM names.
std::string trainingProgramBeside(const std::string& executable);

class RankHost {
public:
    // Rank 0 of world. With launch, world is local (localWorld) and ranks 1.. are started here.
    // Throws Error naming the rank and its complaint (other data, a rank that never came); the
    // ranks started are ended then.
    RankHost(const World& world, const TrainConfig& config, const Dataset& data,
             const std::optional<LocalLaunch>& launch);
    ~RankHost(); // ends local ranks still running
    RankHost(const RankHost&) = delete;
    RankHost& operator=(const RankHost&) = delete;

    const std::shared_ptr<RankGroup>& group() const { return group_; }
    // The local ranks that failed so far, one line ("rank 2 (pid 42) was killed by signal 9:
    // ..."); empty when none did or the ranks are not local.
    std::string failures();
    // After the run: waits up to seconds (< 0: the world's timeout) for the local ranks to end,
    // ends those still running, and says which failed.
    std::string finish(double seconds = -1.0);
    std::vector<pid_t> localPids() const;

private:
    World world_;
    std::shared_ptr<LocalRanks> local_;
    std::shared_ptr<RankGroup> group_;
};

// A rank other than 0: meets rank 0, receives the run's configuration (its device mapped to
// this rank's GPU by the trainer) and checks that data is what rank 0 loaded. Throws Error
// (and tells rank 0 why) when it is not.
struct JoinedRank {
    std::shared_ptr<RankGroup> group;
    TrainConfig config;
};
JoinedRank joinRankZero(const World& world, const Dataset& data);

} // namespace reclab
