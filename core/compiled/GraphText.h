// The text a compiled graph reads, as the GraphData tensors its text blocks look up: one
// vocabulary over the fields the graph uses, each item's own words, the reviews of each item and
// of each user from the training part only (a test interaction's review never describes its
// item), and the word vectors a word embedding starts from.
#pragma once

#include "compiled/GraphModule.h"
#include "runs/TrainConfig.h"

namespace reclab {

// Fills data's text for a graph whose analysis reads text (analysis.textSources), from
// shape.dataset and its training part shape.train. Throws ConfigError naming what is missing
// (no dataset, no text in the fields asked for, reviews without a training part) and DataError
// for a vectors file that cannot be read. When shape.restoring, vectors are not read or trained:
// zeros of the graph's word dimension stand in for the checkpoint's.
void addGraphText(GraphData& data, const ModelShape& shape, const GraphAnalysis& analysis, const TrainConfig& config);

} // namespace reclab
