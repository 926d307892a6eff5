// Where this process stands in a training that spans several processes: its rank, the world's
// size and the rendezvous address, as torchrun sets them in the environment (and Slurm jobs
// that run torchrun, and Kubernetes' PyTorchJob, which set the same variables). Torch-free, so
// the CLI and the GUI read it without LibTorch.
#pragma once

#include "util/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace reclab {

// A distributed training's group can no longer work: a rank ended or did not answer within the
// timeout. A run that ends this way is interrupted (it can be resumed from its last checkpoint).
class GroupBroken : public Error {
public:
    using Error::Error;
};

struct World {
    int rank = 0; // 0 hosts the run: it evaluates and writes the experiment database
    int size = 1;
    int localRank = 0; // the GPU of this process on its machine (cuda:localRank)
    int localSize = 1;
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
    // torchrun's static rendezvous keeps its own store at the master address, which every rank
    // joins as a client (TORCHELASTIC_USE_AGENT_STORE); otherwise rank 0 hosts the store.
    bool agentStore = false;
    std::string storePrefix;     // the agent store's key space for this attempt
    double timeoutSeconds = 300; // every collective, the rendezvous and the waits between epochs

    bool distributed() const { return size > 1; }
    // "rank 1 of 4"
    std::string describe() const;
};

// The world the environment describes: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT (torchrun's names), the timeout from RECLAB_DIST_TIMEOUT (seconds).
// nullopt when neither RANK nor WORLD_SIZE is set. Throws ConfigError naming the variable when
// one is malformed or missing beside the others.
std::optional<World> worldFromEnvironment();

// The timeout of collectives: RECLAB_DIST_TIMEOUT seconds when set (checked), else 300.
double distributedTimeoutSeconds();

// A local world of size processes on this machine (what --processes starts), on a port free now.
World localWorld(int size);

// The environment variables of one rank of a local world, as torchrun would set them.
std::vector<std::string> rankEnvironment(const World& world, int rank);

// Whether this build can train across processes (LibTorch's c10d with Gloo was found), and
// which backends it has: "gloo", "gloo, nccl" or "" (none).
bool distributedTrainingBuilt();
std::string distributedBackends();

} // namespace reclab
