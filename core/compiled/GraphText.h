// The text a compiled graph reads, as the GraphData tensors its text blocks look up: one
// vocabulary over the fields the graph uses, each item's own words, the reviews of each item and
// of each user from the training part only (a test interaction's review never describes its
// item), and the word vectors a word embedding starts from.
#pragma once

#include "compiled/GraphModule.h"
#include "runs/TrainConfig.h"
#include "text/WordVectors.h"

namespace reclab {

// Fills data's text for a graph whose analysis reads text (analysis.textSources), from
// shape.dataset and its training part shape.train. Throws ConfigError naming what is missing
// (no dataset, no text in the fields asked for, reviews without a training part) and DataError
// for a vectors file that cannot be read. When shape.restoring, vectors are not read or trained:
// zeros of the graph's word dimension stand in for the checkpoint's.
void addGraphText(GraphData& data, const ModelShape& shape, const GraphAnalysis& analysis, const TrainConfig& config);

// The run's word vectors for text's vocabulary: trained by fastText (config.wordVectors "train",
// config.wordDim wide, seeded by config.seed) or read from the file it names (only the
// vocabulary's words); what was done is added to note.
VocabularyVectors runWordVectors(const ItemText& text, const TrainConfig& config, std::string& note);

// The word vectors a graph ends with: its first word embedding's rows (frozen ones as loaded)
// with the vocabulary's words. ConfigError when the graph has no word embedding.
WordVectors graphWordVectors(const GraphModelImpl& model);

} // namespace reclab
