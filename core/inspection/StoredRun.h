// A stored run made usable again for inspection (recommendations, attention, embeddings): its
// record, the very data it was trained on (checked by fingerprint) and its model with the
// weights it ended with. Shared by the command line and the workbench's views.
#pragma once

#include "data/Dataset.h"
#include "inspection/Recommendations.h"
#include "store/ExperimentStore.h"
#include "runs/StoredRuns.h"
#include "runs/TrainConfig.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace reclab {

class Recommender;

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
// An item's title, or its id when the dataset has none.
std::string itemTitle(const Dataset& data, int32_t item);

// The index of the item whose id the dataset writes as `id`; throws Error when there is none.
int32_t itemIndexOf(const Dataset& data, const std::string& id);

// Loaded runs and datasets for the workbench's inspection views, each loaded once and shared by
// the worker threads that use them; runs on the same data share one dataset and index. A DIN
// model's attention table (GraphModelImpl::prepareAttentionTable) is computed as it loads.
class InspectionCache {
public:
    struct Data {
        std::shared_ptr<const Dataset> dataset;
        std::unique_ptr<InteractionIndex> index;
    };
    struct Model {
        StoredModel stored;
        std::shared_ptr<Data> data;
        std::mutex use; // one forward pass at a time (a model keeps its last attention)
    };
    // Both throw as loadStoredModel does; safe from any thread.
    std::shared_ptr<Data> data(const std::string& databasePath, int64_t runId);
    std::shared_ptr<Model> model(const std::string& databasePath, int64_t runId);
    // Forgets the runs of other databases and those not in `runIds` (deleted: SQLite may give a
    // deleted run's id to the next run), and the datasets no kept run uses.
    void retain(const std::string& databasePath, const std::vector<int64_t>& runIds);

private:
    std::mutex mutex_;
    std::map<std::string, std::shared_ptr<Data>> data_;                        // by fingerprint
    std::map<std::pair<std::string, int64_t>, std::shared_ptr<Model>> models_; // by (database, run)
    uint64_t generation_ = 0; // retain() calls: a model loaded across one is not kept
};

} // namespace reclab
