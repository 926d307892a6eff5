// Builds the models of the registry (zoo/ModelRegistry.h) and compiles graphs: the LibTorch half
// of the zoo, in reclab_core.
#pragma once

#include "graph/GraphSpec.h"
#include "models/ModelShape.h"
#include "runs/TrainConfig.h"

#include <memory>

namespace reclab {

class Recommender;
struct ModelInfo;

// The registry model `info` for data of this shape, configured by config: a template model's
// bound graph compiled, a hand-written one constructed. Throws ConfigError for a model the
// factory does not know.
std::shared_ptr<Recommender> createModel(const ModelInfo& info, const ModelShape& shape, const TrainConfig& config);
// The model a graph compiles to, for data of this shape; throws GraphError when the graph is
// not valid for it.
std::shared_ptr<Recommender> compileGraph(const GraphSpec& graph, const ModelShape& shape, const TrainConfig& config);

} // namespace reclab
