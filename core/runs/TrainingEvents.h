// What a training run reports while it runs: progress within an epoch, and the figures of
// each finished epoch. Plain structs (no torch, no Qt) so the GUI can carry them in signals.
#pragma once

#include "runs/Metrics.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace reclab {

struct BatchProgress {
    int epoch = 0;              // 1-based
    int64_t batch = 0;          // batches done in this epoch
    int64_t batchesPerEpoch = 0;
    double loss = 0.0;          // mean training loss over the batches since the last report
    int64_t step = 0;           // batches done since the run started
    double elapsedSeconds = 0.0;
    // Empty for the run itself; "gmf" or "mlp" while NeuMF's parts are pre-trained (epoch and
    // batch then count within that phase, and no epoch figures follow).
    std::string phase;
    // On an epoch's last report: the wall time of its training pass, sampling included (0 on
    // the others). Pre-training phases have no epoch figures; their time is counted from this.
    double epochSeconds = 0.0;
};

// One batch run with "Step" while a training is paused: its loss and the gradient norm of each
// block (parameters grouped by the block, or module, they belong to), for teaching.
struct StepReport {
    int epoch = 0;
    int64_t batch = 0; // within the epoch, 1-based
    int64_t step = 0;  // since the run started
    double loss = 0.0;
    std::vector<std::pair<std::string, double>> gradientNorms; // block, L2 norm of its gradients
};

struct EpochStats {
    int epoch = 0;
    double learningRate = 0.0;      // the rate this epoch trained with
    double loss = 0.0;              // mean training loss of the epoch
    double trainSeconds = 0.0;      // wall time of the training pass, sampling included
    double evalSeconds = 0.0;
    double samplesPerSecond = 0.0;
    int64_t samples = 0;
    int64_t step = 0;               // batches done since the run started
    double elapsedSeconds = 0.0;    // since the run started, at the end of this epoch's evaluation
    MetricValues metrics;           // held-out metrics after this epoch ("val_" ones with validation)
    // A run across processes (dist/): how many, and what exchanging gradients cost this epoch on
    // rank 0 (wall time inside collectives; bytes it sent per step, and what one dense all-reduce
    // of the whole gradient would have sent).
    int worldSize = 1;
    double exchangeSeconds = 0.0;
    double exchangeBytesPerStep = 0.0;
    double denseBytesPerStep = 0.0;
};

enum class RunStatus { Running, Finished, Failed, Stopped, Interrupted };
const char* runStatusName(RunStatus status); // "RUNNING", "FINISHED", ...
RunStatus runStatusFromName(const std::string& name);

struct RunOutcome {
    RunStatus status = RunStatus::Finished;
    int epochsCompleted = 0;
    MetricValues finalMetrics; // with a validation metric: the test part at the best epoch
    std::string message;       // why it failed or stopped (early, too)
    // With a validation metric: the best epoch, whose weights the model ends with and whose
    // test metrics finalMetrics holds (evaluated once, after training).
    int bestEpoch = 0;
    int64_t bestStep = 0;
    bool testedAtBest = false;
    // The test metrics behind finalMetrics per test user (empty when no epoch completed).
    UserMetrics userMetrics;
};

} // namespace reclab
