// Embeddings projected to two dimensions for the embedding projector: PCA (the top principal
// components of the centred vectors) and exact t-SNE (van der Maaten and Hinton 2008: Gaussian
// affinities calibrated to a perplexity, Student-t affinities in the map, early exaggeration,
// momentum and per-coordinate gains), both in LibTorch. t-SNE reports its map as it converges
// and stops when asked.
#pragma once

#include <torch/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

namespace reclab {

struct PcaResult {
    torch::Tensor coordinates;           // [n, dims], float
    torch::Tensor components;            // [d, dims], unit columns
    std::vector<double> explainedRatio;  // per component: its share of the total variance
};
// vectors: [n, d] (any floating type). Each component's sign makes its largest loading positive,
// so the same data always gives the same picture. Throws std::invalid_argument for n < 2 or
// dims > d.
PcaResult pca(const torch::Tensor& vectors, int dims = 2);

struct TsneOptions {
    double perplexity = 30.0;
    int iterations = 1000;
    int exaggerationIterations = 250; // early exaggeration (x12) and momentum 0.5, then 0.8
    double exaggeration = 12.0;
    double learningRate = 0.0; // 0: max(n / exaggeration / 4, 50), as scikit-learn's "auto"
    uint64_t seed = 42;        // for the tiny random jitter added to the PCA start
    int reportEvery = 25;      // iterations between progress reports
};

struct TsneProgress {
    int iteration = 0;
    double klDivergence = 0.0; // of the current map (without exaggeration)
    torch::Tensor coordinates; // [n, 2] snapshot
};

// Cosine similarity is what the projector's neighbours use; t-SNE works on Euclidean distances
// of the vectors as given. onProgress may be empty; stop, when set, ends the run early (the
// result is the map so far). Throws std::invalid_argument when n <= 3 * perplexity.
torch::Tensor tsne(const torch::Tensor& vectors, const TsneOptions& options = {},
                   const std::function<void(const TsneProgress&)>& onProgress = {},
                   const std::atomic<bool>* stop = nullptr);

// The rotation (or reflection) of the centred `moving` map that best lays it onto the centred
// `fixed` one (orthogonal Procrustes), so that playing through epochs does not spin or flip the
// map; `moving` as it is when `fixed` is undefined or of another shape.
torch::Tensor procrustesAlign(const torch::Tensor& moving, const torch::Tensor& fixed);

// The rows of [n, d] vectors scaled to unit length (a zero row stays zero).
torch::Tensor unitRows(const torch::Tensor& vectors);

// The k rows most cosine-similar to row `of` (itself left out), best first, with their
// similarities; unit: rows of unit length (unitRows).
struct Neighbours {
    std::vector<int64_t> rows;
    std::vector<double> similarity;
};
Neighbours cosineNeighbours(const torch::Tensor& unit, int64_t of, int64_t k);

} // namespace reclab
