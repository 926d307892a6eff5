// A trained graph kept beside the experiment database, and exported as TorchScript.
//
// Each graph run leaves <database>.artifacts/run-<id>/ with graph.json (the graph as trained,
// variables bound, and the data sizes it was built for) and weights.pt (every parameter and
// buffer). The exporter writes TorchScript source for the graph's forward pass in evaluation
// (sequences padded and masked rather than packed, the same numbers), defines it on a
// torch::jit::Module holding the weights, and saves a .pt that Python's torch.jit.load reads.
#pragma once

#include "compiled/GraphModule.h"

#include <string>

namespace reclab {

void saveTrainedGraph(GraphModelImpl& model, const std::string& dir);
// Throws GraphError naming the folder when the files are missing or do not fit together.
GraphModel loadTrainedGraph(const std::string& dir);

// The TorchScript source of the model's forward: forward(self, users, items) for graphs
// without a history, forward(self, users, items, history, history_length) for those with one.
std::string torchScriptSource(GraphModelImpl& model);
// Saves the module; returns the forward's signature for the user.
std::string exportTorchScript(GraphModelImpl& model, const std::string& path);

} // namespace reclab
