// A stored run's record and what it says about repeating it: its configuration, and whether data
// is the data it was trained on. Torch-free, so the workbench checks a resume or clone before
// LibTorch is loaded.
#pragma once

#include "runs/TrainConfig.h"
#include "store/ExperimentStore.h"

#include <cstdint>
#include <string>

namespace reclab {

class Dataset;

// Throws StoreError when the database cannot be read or has no such run.
RunRecord findStoredRun(const std::string& databasePath, int64_t runId);
// The configuration a stored run was trained with; throws Error naming the run when there is none.
TrainConfig storedTrainConfig(const std::string& databasePath, int64_t runId);
// Throws Error unless data is what the stored run was trained on ("... load that dataset to
// <purpose>"): resuming and cloning repeat the run's split, which needs the same data.
void requireSameData(const RunRecord& run, const Dataset& data, const std::string& purpose);

} // namespace reclab
