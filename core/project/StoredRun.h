// A stored run made usable again for inspection (recommendations, attention, embeddings): its
// record, the very data it was trained on (checked by fingerprint) and its model with the
// weights it ended with. Shared by the command line and the workbench's views.
#pragma once

#include "data/Dataset.h"
#include "store/ExperimentStore.h"
#include "train/TrainConfig.h"

#include <memory>
#include <string>

namespace reclab {

class Recommender;

// Throws StoreError when the database cannot be read or has no such run.
RunRecord findStoredRun(const std::string& databasePath, int64_t runId);

// The run's dataset: dataOverride if given, else where the run read it. Throws Error naming
// the source when it cannot be loaded or is not the run's data (other fingerprint).
Dataset runDataset(const RunRecord& run, const std::string& dataOverride);

struct StoredModel {
    RunRecord run;
    std::shared_ptr<const Dataset> data;
    TrainConfig config;
    std::shared_ptr<Recommender> model; // on the CPU, in eval mode
    std::string checkpoint;             // best.pt when the run validated, else last.pt; empty for counting models
};

// Loads the run's model from its best or last checkpoint (counting models are rebuilt from the
// data). `data`, when given, must be the run's data (fingerprint checked) and saves a reload.
// Throws StoreError for the database, Error for the data or a run without a checkpoint.
StoredModel loadStoredModel(const std::string& databasePath, int64_t runId, std::shared_ptr<const Dataset> data = nullptr,
                            const std::string& dataOverride = {});

// The index of the user whose id the dataset writes as `id`; throws Error when there is none.
int32_t userIndexOf(const Dataset& data, const std::string& id);
// The index of the item whose id the dataset writes as `id`; throws Error when there is none.
int32_t itemIndexOf(const Dataset& data, const std::string& id);

} // namespace reclab
