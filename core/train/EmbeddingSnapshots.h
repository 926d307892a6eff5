// A model's embedding tables (its torch::nn::Embedding modules whose rows are the users or the
// items) saved per epoch beside the run, so the projector can show any run at any epoch and
// play the map through training. Files: <run dir>/embeddings/epoch-<N>.pt (one tensor per
// table) and embeddings/index.json (which epochs, which tables), both written whole or not at
// all. Snapshots thin out for large tables: every epoch while they stay small, else epochs 1,
// 2, 4, 8, ... and the last.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace reclab {

struct EmbeddingTable {
    std::string name;    // the module's name, e.g. "user_gmf", "items"
    std::string kind;    // "users" or "items"
    torch::Tensor weights; // [rows, dim], float, on the CPU
};

struct EmbeddingTableInfo {
    std::string name, kind;
    int64_t rows = 0, dim = 0;
};
struct EmbeddingSnapshotInfo {
    int epoch = 0;
    std::vector<EmbeddingTableInfo> tables;
};

// The user and item tables of a model on the CPU as float; biases (dim 1) are left out. With
// copy false, tables already on the CPU as float are the model's own weights (detached), for
// readers that use them at once.
std::vector<EmbeddingTable> embeddingTables(const torch::nn::Module& model, int64_t numUsers, int64_t numItems,
                                            bool copy = true);

// Whether epoch (of epochs) gets a snapshot when one takes bytes: all of them while the run's
// snapshots stay under 256 MB, else powers of two and the last epoch.
bool shouldSnapshot(int epoch, int epochs, int64_t bytes);

// Writes (or replaces) the snapshot of epoch; throws Error naming the file when it cannot.
void writeEmbeddingSnapshot(const std::string& runDir, int epoch, const std::vector<EmbeddingTable>& tables);
// The snapshots of a run, epochs ascending; empty when it has none. Throws Error for a damaged index.
std::vector<EmbeddingSnapshotInfo> listEmbeddingSnapshots(const std::string& runDir);
// One snapshot's tables; throws Error naming the run folder and epoch when there is none.
std::vector<EmbeddingTable> readEmbeddingSnapshot(const std::string& runDir, int epoch);

} // namespace reclab
