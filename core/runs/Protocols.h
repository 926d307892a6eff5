// The evaluation protocols, one catalogue read by the trainer, the CLI and the workbench: id,
// task, label and description (with the numbers of the configuration they run with: sampled
// negatives, test share, history length, positive rating, K). Torch-free.
#pragma once

#include "runs/ModelTraits.h"

#include <string>
#include <vector>

namespace reclab {

struct TrainConfig;

struct ProtocolInfo {
    std::string id;        // "loo", as --protocol and the run's parameters name it
    TaskKind task;         // the task it evaluates
    bool taskDefault;      // the task's protocol when none is given
    bool allItems;         // ranks against every unseen item: the full set of top-K metrics
    bool predefinedFolds;  // MovieLens-100K's own u1..u5 (the fold option picks one)
    bool anyTask = false;  // every model can run it (the common protocol), whatever its task
    bool ratingsToo = false; // rating models run it too (the cold protocol)

    bool fits(TaskKind kind) const { return anyTask || task == kind || (ratingsToo && kind == TaskKind::RatingPrediction); }
};

const std::vector<ProtocolInfo>& protocolCatalogue();
// nullptr for an unknown id.
const ProtocolInfo* findProtocol(const std::string& id);
const ProtocolInfo& defaultProtocolFor(TaskKind task);
// The protocol a run of this task uses: the given id, or the task's default when it is empty
// or unknown.
const ProtocolInfo& protocolOf(TaskKind task, const std::string& id);
std::vector<const ProtocolInfo*> protocolsFor(TaskKind task);
// The protocol every model runs, on one split: "common".
const ProtocolInfo& commonProtocol();
// "loo, full, holdout, folds or din"; with a task, only its protocols ("loo or full").
std::string protocolIds(const std::vector<const ProtocolInfo*>& protocols);
std::string protocolIds();

// A short label for a menu ("Leave-one-out, 99 negatives") and a description of what is held
// out and measured, with the configuration's numbers; fold: which of u1..u5 (folds only).
std::string protocolLabel(const ProtocolInfo& protocol, const TrainConfig& config, int fold = 0);
std::string protocolDescription(const ProtocolInfo& protocol, const TrainConfig& config);

} // namespace reclab
