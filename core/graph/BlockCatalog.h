// The blocks a model graph is built from, as the palette and the editor see them: their ports,
// parameters with defaults and limits, and the text that explains each one (with its formula).
// Each block kind declares this once, with the rest of its definition, in core/blocks/
// (graph/BlockDefinition.h); torch-free.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace reclab {

// What flows along an edge. Ids: integer indices into a vocabulary (user, item); Bag: a set of
// category ids per entry (an item's genres); Float: feature vectors; Words: a text's word ids
// per row (B×T, padded, with its mask); WordVectors: a vector per word of those texts (B×T×d).
enum class ValueKind { Ids, Bag, Float, Words, WordVectors };

enum class ParamKind { Int, IntList, Real, Bool, Choice, TextList, Name };

struct ParamSpec {
    std::string name;
    std::string label;
    ParamKind kind;
    nlohmann::json defaultValue;
    double min = 0, max = 0;          // Int, IntList entries, Real
    std::vector<std::string> choices; // Choice, TextList entries
    std::string help;
};

struct PortSpec {
    std::string name;
    std::string label;
    // Input ports: the kinds accepted; output ports: the kind produced (one entry).
    std::vector<ValueKind> kinds;
};

struct BlockSpec {
    std::string type;        // "embedding"
    std::string displayName; // "Embedding"
    std::string category;    // "Inputs", "Embeddings", "Layers", "Activations", "Combine", "Pooling", "Sequence", "Text", "Outputs"
    std::string summary;     // one sentence
    std::string formula;     // plain-text formula for tooltips
    std::vector<PortSpec> inputs;
    std::vector<PortSpec> outputs;
    std::vector<ParamSpec> params;
    bool isInput() const { return inputs.empty(); }
    bool isOutput() const { return outputs.empty(); }
    const ParamSpec* param(const std::string& name) const;
};

const std::vector<BlockSpec>& blockCatalog();
// nullptr for an unknown type.
const BlockSpec* findBlock(const std::string& type);

// The input ports of a block with its parameters (concat has "in1" .. "inN" for N = inputs).
std::vector<PortSpec> inputPortsOf(const BlockSpec& spec, const nlohmann::json& params);

std::string valueKindName(ValueKind kind);

} // namespace reclab
