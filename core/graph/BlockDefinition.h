// What a block kind is, declared once per block family in core/blocks/ (see
// core/graph/README.md): its catalogue entry (ports, parameters, formula), its shape rule and
// parameter count, and the traits the rest of RecLab asks about (reads the behaviour
// history, weighs behaviours, which loss its output trains). Torch-free; the LibTorch half of
// the same files is in compiled/BlockKernel.h.
#pragma once

#include "graph/BlockCatalog.h"
#include "graph/GraphAnalysis.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace reclab {

// What one block's shape rule sees: its resolved parameters, the types arriving at its input
// ports (all known), the data's sizes; what it reports: problems, weights, hidden widths.
class ShapeContext {
public:
    const GraphContext& sizes;
    nlohmann::json& params; // resolved; a rule may note what it derived (an embedding's ids_vocab)
    const std::vector<ValueType>& in;
    const std::vector<PortSpec>& ports;
    int64_t parameters = 0; // weights this block owns
    int64_t widest = 0;     // its widest inner activation, beyond the output (all-item scoring's slices)
    bool itemVectors = false; // it learns a vector per item (the projector can show them)

    // Reports a problem at an input port (empty: the block itself); returns nullopt for `return c.fail(...)`.
    std::nullopt_t fail(const std::string& port, const std::string& message);
    bool failed() const { return failed_; }
    // Input k must carry vectors; otherwise reports it and returns false.
    bool vectors(size_t k);
    // The first block using a shared embedding table, or nullptr when this block is the first
    // (it is then recorded as the owner).
    const BlockAnalysis* tableOwner(const std::string& table);
    int64_t vocabularySize(const std::string& vocab) const;

    ShapeContext(const GraphContext& sizes, nlohmann::json& params, const std::vector<ValueType>& in,
                 const std::vector<PortSpec>& ports, std::function<void(const std::string&, const std::string&)> report,
                 std::function<const BlockAnalysis*(const std::string&)> owner);

private:
    std::function<void(const std::string&, const std::string&)> report_;
    std::function<const BlockAnalysis*(const std::string&)> owner_;
    bool failed_ = false;
};

// The text a graph's inputs read: an item's own words (title, genres, tags), the reviews written
// about it, the reviews its user wrote (both from the training part only).
enum TextSource : unsigned { ItemWordsSource = 1u, ItemReviewsSource = 2u, UserReviewsSource = 4u };

// The loss an output block trains: it decides the graph's task.
enum class OutputLoss { None, Logistic, Squared, NextItem };

struct BlockTraits {
    bool readsHistory = false; // an input along the behaviour sequence
    bool weighsBehaviours = false; // produces per-behaviour weights (the Attention view shows them)
    bool attendsWithinSequence = false; // attention maps over the behaviours without a candidate (self-attention, a decoder)
    unsigned readsText = 0; // TextSource bits of the text this input reads
    OutputLoss loss = OutputLoss::None;
};

struct BlockDefinition {
    BlockSpec spec;
    BlockTraits traits;
    // The output's type from the inputs' types (and the parameter count, in c.parameters);
    // nullopt for output blocks, or after c.fail().
    std::function<std::optional<ValueType>(ShapeContext& c)> shape;
    // Input ports for these parameters; empty function: spec.inputs.
    std::function<std::vector<PortSpec>(const nlohmann::json& params)> ports;
};

class BlockRegistry {
public:
    void add(BlockDefinition definition);
    const std::vector<BlockDefinition>& all() const { return blocks_; }
    const BlockDefinition* find(const std::string& type) const;

private:
    std::vector<BlockDefinition> blocks_; // palette order
    std::map<std::string, size_t> index_;
};

// Every block family's definitions (core/blocks/BlockFamilies.def), registered once.
const BlockRegistry& blockRegistry();
const BlockDefinition* findDefinition(const std::string& type);

} // namespace reclab
