// The rows the embedding projector shows (users or items): ids, titles and hover labels, with
// the metadata the TensorBoard export writes.
#pragma once

#include "inspection/EmbeddingExport.h"

#include <QStringList>

#include <string>

namespace reclab {

struct Dataset;

// What the projector shows of one kind of row (users or items), built once per run in a worker.
struct ProjectorRows {
    EmbeddingMetadata metadata;
    QStringList ids, titles; // titles: the item's title, else "user 7" / "item 7"
    QStringList labels;      // hover texts: the title and the interaction count
};

// Built once per run, in a worker (no widget is touched).
ProjectorRows describeProjectorRows(const Dataset& data, const std::string& kind);

} // namespace reclab
