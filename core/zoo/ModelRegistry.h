// The explicit table of models RecLab can train: name, task, tags, default hyperparameters and
// the graph of a template model. Torch-free (built into reclab_graph), so the GUI and the CLI's
// data commands list and check models without LibTorch; zoo/ModelFactory.h builds them.
#pragma once

#include "data/Dataset.h"
#include "graph/GraphSpec.h"
#include "models/ModelShape.h"
#include "runs/ModelTraits.h"
#include "runs/TrainConfig.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace reclab {

struct ModelInfo {
    std::string name;        // CLI name, e.g. "neumf"
    std::string displayName; // e.g. "NeuMF"
    std::string summary;     // one line for tooltips and --help
    TaskKind task;
    ModelFamily family;
    InputType inputType;
    TrainConfig defaults;
    bool trainable = true; // false: computed once from counts (no epochs, no learning rate)
    // Models defined by a graph template: the template with its variables bound to config
    // (createModel compiles it). Empty for hand-written models.
    std::function<GraphSpec(const TrainConfig&)> graph = {};
    // Hand-written models: what they offer (template models: read from their graph).
    bool itemEmbeddings = false;
    // Fitted by sampling (each epoch a Gibbs sweep, Recommender::sampled()): no optimizer, a burn-in.
    bool sampled = false;
};

const std::vector<ModelInfo>& modelRegistry();
const ModelInfo* findModel(const std::string& name);
// The model's defaults; throws ConfigError listing the known names when name is unknown.
TrainConfig defaultConfigFor(const std::string& name);
std::string modelNames(const char* separator = "|");

// The graph a configuration trains: config.graph for model "graph", the bound template for a
// template model; throws ConfigError for a model that has no graph.
GraphSpec graphFor(const TrainConfig& config);
// Everything a run's configuration must satisfy before it starts: its fields and the rules
// between them (TrainConfig::validate), and its model's: the sizes a template model's graph
// reads, pre-training only for a model whose graph names its parts. Throws ConfigError.
void checkConfig(const TrainConfig& config);
// What a graph trains for, from its output and inputs (GraphAnalysis); throws GraphError when
// the graph has problems.
TaskKind graphTask(const GraphSpec& graph);
// The task of a configuration's model (a registry model's, or its graph's).
TaskKind taskOf(const TrainConfig& config);
// What a configuration's model can do: its graph's blocks say, or the registry's entry for a
// hand-written model. Throws ConfigError or GraphError as graphFor does.
ModelAbilities abilitiesOf(const TrainConfig& config);
// The same from a stored run's parameters (RunRecord::paramsJson); nullopt when they cannot be
// read (a run of another version, or a damaged record).
std::optional<ModelAbilities> abilitiesOfRun(const std::string& paramsJson);

} // namespace reclab
