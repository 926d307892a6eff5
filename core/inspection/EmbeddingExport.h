// What the embedding projector and `reclab-cli export embeddings` write: a table's vectors and
// one metadata row per user or item in TensorBoard Projector's TSV format (vectors.tsv without
// a header, metadata.tsv with one), and projected coordinates as CSV.
#pragma once

#include "data/Dataset.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace reclab {

struct EmbeddingMetadata {
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows; // one per user or item, in index order
};

// Items: id, title, genre (the first), genres (all, "|"-separated), interactions, popularity
// (countBuckets). Users: id, interactions, activity.
EmbeddingMetadata itemMetadata(const Dataset& dataset);
EmbeddingMetadata userMetadata(const Dataset& dataset);
// "head" for the top 20% by count, "torso" for the next 30%, "tail" for the rest (ties share
// the better bucket); for users the same thresholds read "heavy", "medium", "light".
std::vector<std::string> countBuckets(const std::vector<int64_t>& counts, const char* top, const char* middle,
                                      const char* rest);

// Writes dir/vectors.tsv and dir/metadata.tsv (creating dir); tabs and line breaks inside
// fields become spaces. Throws Error naming the file it cannot write.
void writeProjectorFiles(const std::string& dir, const torch::Tensor& vectors, const EmbeddingMetadata& metadata);
// Writes coordinates (n x k) as CSV with the metadata's first column as the row label.
void writeCoordinatesCsv(const std::string& path, const torch::Tensor& coordinates, const EmbeddingMetadata& metadata);

} // namespace reclab
