// A bandit run in the experiment database: each policy becomes a run of its own (model
// "bandit", named by the policy, tagged "bandit"), its params the environment and settings, its
// curves the metrics `reward` (cumulative), `mean_reward`, `ctr` and `matched` (replay) or
// `regret` (simulator) by decision, and `decisions_per_second` at the end, so the runs list,
// the dashboard's charts and the Compare tab read them like training runs.
#pragma once

#include "rl/BanditRun.h"
#include "runs/TrainingEvents.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace reclab {

// The model of a bandit run's record: it holds no trained model to load or inspect.
inline constexpr const char* kBanditModel = "bandit";

class ExperimentStore;

// The database stays open from the first run's start to finish(); one thread at a time uses it.
// Dropped before finish() (an error, a window closed while paused), it marks the runs
// INTERRUPTED, so none stays RUNNING.
class BanditRecorder {
public:
    // Begins a RUNNING run per policy; baseRun 0 when there is none. Throws StoreError.
    BanditRecorder(const std::string& databasePath, const BanditRun& run, int64_t baseRun);
    ~BanditRecorder();
    // Records the curve points the run added since the last call.
    void record(const BanditRun& run);
    // Records what is left and the final figures, and ends every run with status.
    void finish(const BanditRun& run, RunStatus status, const std::string& message = "");
    const std::vector<int64_t>& runIds() const { return runIds_; }

private:
    std::unique_ptr<ExperimentStore> store_;
    std::vector<int64_t> runIds_;
    std::vector<size_t> recorded_; // curve points recorded per policy
    bool finished_ = false;
};

} // namespace reclab
