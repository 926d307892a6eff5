// What the inspecting commands (export embeddings, recommend) need of a stored run: its record,
// its folder, and the very data it was trained on (checked by fingerprint).
#pragma once

#include "data/Dataset.h"
#include "store/ExperimentStore.h"

#include <string>

namespace reclab::cli {

// Throws StoreError when the database cannot be read or has no such run.
RunRecord storedRun(const std::string& databasePath, int64_t runId);
// The run's dataset: dataOverride if given, else where the run read it. Throws Error naming
// the source when it cannot be loaded or is not the run's data (other fingerprint).
Dataset runDataset(const RunRecord& run, const std::string& dataOverride);

} // namespace reclab::cli
