// libFuzzer target for a stored run's params (the JSON every run keeps, read back to resume,
// clone, inspect and compare): the key/value view of any text, and a training configuration
// with its graph, which must be refused with a reclab::Error unless it is whole and valid.
#include "graph/GraphAnalysis.h"
#include "graph/GraphSpec.h"
#include "store/ExperimentStore.h"
#include "runs/TrainConfig.h"
#include "util/Error.h"

#include <nlohmann/json.hpp>

using namespace reclab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    (void)flattenParams(text);
    const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded())
        return 0;
    try {
        const TrainConfig config = TrainConfig::fromJson(json);
        config.validate();
        if (config.model == "graph") {
            const GraphSpec graph = GraphSpec::fromJson(config.graph, "params");
            (void)analyseGraph(graph, GraphContext{943, 1682, 19, 0}).report();
        }
        // What is stored is what was read.
        if (TrainConfig::fromJson(config.toJson()).toJson() != config.toJson())
            std::abort();
    } catch (const Error&) {
    }
    return 0;
}
