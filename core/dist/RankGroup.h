// The processes of one distributed training, joined through PyTorch's own engine: a c10d
// TCPStore for the rendezvous (hosted by rank 0, or by torchrun's agent) and a c10d process
// group over it, Gloo for tensors on the CPU and NCCL for tensors on a GPU. Every collective has
// the world's timeout, and any failure (a rank that ended, one that stopped answering) comes out
// as GroupBroken, on every rank that was waiting for it.
#pragma once

#include "dist/World.h"
#include "util/Error.h"

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace reclab {

// What the collectives of this process cost, since the group was made (or reset).
struct ExchangeTally {
    double seconds = 0;   // wall time inside collectives (waiting for the slowest rank included)
    double bytesSent = 0; // what this rank sent, counted for the ring algorithms Gloo and NCCL use
    int64_t collectives = 0;
    int64_t steps = 0; // gradient exchanges (GradientSync)
};

class RankGroup {
public:
    // Meets the other ranks at the world's store (up to the timeout); throws GroupBroken naming
    // the address when they do not all come. The store works from here on, the collectives
    // once connect() has formed the group.
    // giveUp, when given, is asked while waiting: a non-empty answer (a local rank that ended)
    // ends the wait at once with that reason.
    explicit RankGroup(const World& world, std::function<std::string()> giveUp = {});
    ~RankGroup();
    RankGroup(const RankGroup&) = delete;
    RankGroup& operator=(const RankGroup&) = delete;

    const World& world() const { return world_; }
    int rank() const { return world_.rank; }
    int size() const { return world_.size; }
    // Forms the process group for tensors on device: NCCL for a GPU, Gloo for the CPU.
    void connect(bool cuda);
    const char* backend() const;

    // In place: the element-wise sum over the ranks, the same bytes on every rank.
    void allreduceSum(torch::Tensor& tensor);
    // Every rank's tensor (each the same shape) stacked: [size, ...].
    torch::Tensor allgather(const torch::Tensor& tensor);
    // In place: rank root's tensor on every rank.
    void broadcast(torch::Tensor& tensor, int root = 0);

    // The store, for the few small messages beside the tensors (the job, the verdicts).
    void publish(const std::string& key, const std::string& value);
    // Waits up to the timeout for key (GroupBroken after), or until giveUp answers.
    std::string fetch(const std::string& key);
    // Waits for key while rank 0 keeps its pulse (see Pulse): however long rank 0's evaluation
    // takes, a rank 0 that ended or stopped answering is found within the timeout.
    std::string fetchWhileRankZeroLives(const std::string& key);

    // Rank 0's pulse while the others wait on it (between epochs): a thread that ticks a
    // counter in the store every tenth of the timeout, for as long as the Pulse lives.
    class Pulse {
    public:
        explicit Pulse(RankGroup& group);
        ~Pulse();
        Pulse(const Pulse&) = delete;
        Pulse& operator=(const Pulse&) = delete;

    private:
        struct State;
        std::unique_ptr<State> state_;
    };

    const ExchangeTally& tally() const { return tally_; }
    void countStep() { ++tally_.steps; }
    void resetTally() { tally_ = {}; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    World world_;
    std::function<std::string()> giveUp_;
    ExchangeTally tally_;
};

} // namespace reclab
