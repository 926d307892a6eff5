#include "runs/StoredRuns.h"

#include "data/Dataset.h"
#include "util/Error.h"

#include <nlohmann/json.hpp>

namespace reclab {

RunRecord findStoredRun(const std::string& databasePath, int64_t runId)
{
    ExperimentStore store(databasePath);
    const auto found = store.findRun(runId);
    if (!found)
        throw StoreError(databasePath + " has no run " + std::to_string(runId));
    return *found;
}

TrainConfig storedTrainConfig(const std::string& databasePath, int64_t runId)
{
    const RunRecord record = findStoredRun(databasePath, runId);
    try {
        return TrainConfig::fromJson(nlohmann::json::parse(record.paramsJson));
    } catch (const nlohmann::json::exception& e) {
        throw Error("run " + std::to_string(runId) + " of " + databasePath + " has unreadable params: " + e.what());
    }
}

void requireSameData(const RunRecord& run, const Dataset& data, const std::string& purpose)
{
    if (run.datasetFingerprint != data.fingerprint())
        throw Error("run " + std::to_string(run.id) + " was trained on other data (" + run.dataset + ", " +
                    run.datasetSource + "); load that dataset to " + purpose);
}

} // namespace reclab
