// The template files of resources/graphs as text, generated into the build by
// cmake/EmbedGraphs.cmake (private to core/graph).
#pragma once

#include <vector>

namespace reclab {

struct EmbeddedGraph {
    const char* name;
    const char* json;
};

const std::vector<EmbeddedGraph>& embeddedGraphs();

} // namespace reclab
