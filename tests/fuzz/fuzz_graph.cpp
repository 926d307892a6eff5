// libFuzzer target for the graph loader and analysis: any bytes, read as a graph file, must give
// a GraphSpec or a GraphError, never a crash, a hang or a sanitizer report; a graph that loads
// is analysed (and every edge re-checked as a new connection) and survives a JSON round trip.
// Built and run by tests/fuzz/run.sh with clang, -fsanitize=fuzzer,address,undefined.
#include "graph/GraphAnalysis.h"
#include "graph/GraphSpec.h"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace reclab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    GraphSpec graph;
    try {
        graph = GraphSpec::parse(text, "fuzz.json");
    } catch (const GraphError&) {
        return 0;
    }
    // ml-100k's sizes, and a context with huge sizes to reach the memory checks.
    for (const GraphContext& context :
         {GraphContext{943, 1682, 19, 0}, GraphContext{1ll << 31, 1ll << 31, 1 << 20, 0}}) {
        const GraphAnalysis analysis = analyseGraph(graph, context);
        (void)analysis.report();
        if (analysis.ok() && analysis.outputBlock.empty())
            std::abort(); // a valid graph has exactly one output
    }
    for (size_t k = 0; k < graph.edges.size() && k < 8; ++k) {
        GraphSpec without = graph;
        without.edges.erase(without.edges.begin() + static_cast<long>(k));
        (void)connectionProblem(without, graph.edges[k].from, graph.edges[k].to);
    }
    const GraphSpec again = GraphSpec::fromJson(graph.toJson(), "round trip");
    if (again.toJson() != graph.toJson())
        std::abort();
    return 0;
}
