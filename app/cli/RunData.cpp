#include "RunData.h"

#include "data/DatasetSource.h"
#include "util/Error.h"

namespace reclab::cli {

RunRecord storedRun(const std::string& databasePath, int64_t runId)
{
    ExperimentStore store(databasePath);
    const auto found = store.findRun(runId);
    if (!found)
        throw StoreError(databasePath + " has no run " + std::to_string(runId));
    return *found;
}

Dataset runDataset(const RunRecord& run, const std::string& dataOverride)
{
    const std::string spec = !dataOverride.empty()      ? dataOverride
                             : run.dataset == "sample" ? std::string("sample")
                                                       : run.datasetSource;
    Dataset dataset;
    try {
        dataset = loadDataset(spec);
    } catch (const Error& e) {
        throw Error("cannot load run " + std::to_string(run.id) + "'s data (" + e.what() + "); give it with --data");
    }
    if (dataset.fingerprint() != run.datasetFingerprint)
        throw Error(spec + " is not the data run " + std::to_string(run.id) + " was trained on (fingerprint " +
                    dataset.fingerprint() + ", the run's " + run.datasetFingerprint + "); give it with --data");
    return dataset;
}

} // namespace reclab::cli
