// What the projector holds of the shown run (its snapshots, the current table and map):
// private to ProjectorView's sources.
#pragma once

#include "inspection/EmbeddingExport.h"
#include "inspection/StoredRun.h"
#include "inspect/ProjectorRows.h"
#include "inspect/ProjectorView.h"
#include "train/EmbeddingSnapshots.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace reclab {

struct ProjectorView::State {
    std::shared_ptr<InspectionCache::Data> data;
    std::map<std::string, ProjectorRows> rows; // by kind
    std::string runDir;
    std::vector<EmbeddingSnapshotInfo> snapshots;
    std::vector<EmbeddingTable> tables; // of the current epoch
    std::vector<torch::Tensor> maps;    // each table's PCA map, computed with the read
    torch::Tensor vectors, unit;        // the current table, and its rows scaled to unit length
    std::string kind;                   // "users" or "items"
    torch::Tensor coordinates;          // [n, 2] on screen
    std::shared_ptr<std::atomic<bool>> stop;
    bool busy = false;

    const ProjectorRows& shown() const { return rows.at(kind); }
};

} // namespace reclab
