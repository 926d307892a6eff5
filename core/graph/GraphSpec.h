// A model graph as data: blocks (nodes) with parameters and a position, and edges from an output
// port to an input port. The versioned JSON form is what files, templates, runs and the editor's
// clipboard hold. Torch-free and Qt-free: the editor, the analysis and the compiler share it.
#pragma once

#include "util/Error.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace reclab {

// A graph file (or text) that cannot be read as a graph: bad JSON, missing or mistyped fields,
// references to blocks or ports that do not exist. where names the field ("nodes[2].params").
class GraphError : public Error {
public:
    GraphError(std::string source, std::string where, const std::string& problem);
    const std::string& source() const { return source_; }
    const std::string& where() const { return where_; }

private:
    std::string source_;
    std::string where_;
};

struct PortRef {
    std::string node;
    std::string port;
    bool operator==(const PortRef& o) const { return node == o.node && port == o.port; }
    std::string text() const { return node + "." + port; }
};

struct GraphEdge {
    PortRef from; // an output port
    PortRef to;   // an input port
    bool operator==(const GraphEdge& o) const { return from == o.from && to == o.to; }
};

struct GraphNode {
    std::string id;   // an identifier, unique in the graph (also the name of its weights)
    std::string type; // a block type of the catalogue (BlockCatalog.h)
    nlohmann::json params = nlohmann::json::object(); // values, or "$variable"
    double x = 0, y = 0; // position on the canvas
};

// NeuMF-style pre-training: the graphs named in `from` are trained first; weights of equal
// names are copied, and the `fuse` linear block gets the parts' own `fuse` weights side by
// side, scaled by alpha and 1 - alpha (He et al. 2017, 3.4.1).
struct GraphPretrain {
    std::vector<std::string> from; // template names
    std::string fuse;
};

struct GraphSpec {
    static constexpr int kVersion = 1;
    static constexpr size_t kMaxNodes = 512;
    static constexpr size_t kMaxEdges = 2048;
    static constexpr size_t kMaxTextBytes = 4u << 20;

    std::string name;
    std::string description;
    // Named values that parameters refer to as "$name" (templates bind them to a training
    // configuration's sizes).
    nlohmann::json variables = nlohmann::json::object();
    std::vector<GraphNode> nodes;
    std::vector<GraphEdge> edges;
    std::optional<GraphPretrain> pretrain;

    const GraphNode* node(const std::string& id) const;
    GraphNode* node(const std::string& id);
    // The edge feeding an input port, if any.
    const GraphEdge* edgeInto(const PortRef& input) const;
    // An id not used yet, from a stem ("embedding" -> "embedding_2").
    std::string freshId(const std::string& stem) const;

    nlohmann::json toJson() const;
    // Structure and field types only; whether blocks and ports exist and fit is the analysis'
    // job (GraphAnalysis.h), so a graph with problems can still be opened and mended.
    static GraphSpec fromJson(const nlohmann::json& json, const std::string& source = "graph");
    // Refuses text over kMaxTextBytes or nested deeper than 64 before parsing it.
    static GraphSpec parse(const std::string& text, const std::string& source = "graph");
    static GraphSpec load(const std::string& path);
    // Writes through a temporary file and a rename, so a failed save leaves the old file.
    void save(const std::string& path) const;
};

bool isIdentifier(const std::string& text);

} // namespace reclab
