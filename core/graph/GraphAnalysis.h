// Checking a model graph before anything is allocated: parameters resolved against their
// limits and the graph's variables, shapes inferred with symbolic batch (B) and sequence (L)
// dimensions, parameter counts, and every problem named by block and port — missing inputs,
// cycles, shape or type mismatches, unused blocks, not exactly one output, tables too large
// for memory. The editor runs it after every change; the compiler refuses a graph it rejects.
#pragma once

#include "data/Dataset.h"
#include "graph/BlockCatalog.h"
#include "graph/GraphSpec.h"
#include "runs/ModelTraits.h"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace reclab {

struct ValueType {
    ValueKind kind = ValueKind::Float;
    std::string vocab;     // Ids and Bag: "user", "item" or "category"; Words: "word"
    bool sequence = false; // has the L dimension (behaviour sequences, masked)
    int64_t width = 0;     // Float, WordVectors: the last dimension
    std::string text() const; // "B×64", "B×L×32", "B ids(user)", "B×L sets(category)", "B×T words(word)"
    bool operator==(const ValueType& o) const
    {
        return kind == o.kind && vocab == o.vocab && sequence == o.sequence && width == o.width;
    }
};

// Sizes of the data the graph will train on; unknown sizes (0) skip the checks that need them.
struct GraphContext {
    int64_t numUsers = 0;
    int64_t numItems = 0;
    int64_t numGenres = 0;
    // Bytes the weights, their gradients and Adam's two moments may take; 0: physical memory.
    double memoryBytes = 0;
    // The training batch and the behaviours kept per history (0: unknown): with both, a graph
    // that reads the history is refused when one batch's activations cannot fit in memory.
    int64_t batchSize = 0;
    int64_t historyLength = 0;
    // Item text: the words of the vocabulary the run builds (0: not known yet) and the text fields
    // the data has (text/ItemText.h fieldBit; the graph's text inputs are refused without them).
    int64_t numWords = 0;
    unsigned textFields = 0;
    // Codes of each categorical profile field (data/ProfileFields.h order: gender, age, occupation,
    // zip_region, year, decade), "unknown" included; 1: the data lacks the field; 0: not known.
    std::array<int64_t, 6> fieldSizes = {};
};
// The sizes of a dataset (memory left to the default).
GraphContext graphContextOf(const Dataset& data);

struct BlockAnalysis {
    std::string id;
    std::string type;
    nlohmann::json params = nlohmann::json::object(); // resolved: defaults filled, variables replaced
    std::optional<ValueType> output;                  // empty where it could not be inferred
    int64_t parameters = 0; // weights owned (a shared table counts at its first block)
    bool failed = false;    // this block has a problem of its own
};

struct GraphIssue {
    std::string node; // empty: the graph as a whole
    std::string port;
    std::string message;
    std::string text() const; // "block 'mlp' (MLP), input 'in': ..."
};

struct GraphAnalysis {
    std::vector<BlockAnalysis> blocks; // in the spec's order
    std::vector<std::string> order;    // blocks in dependency order (complete when acyclic)
    std::vector<GraphIssue> issues;
    int64_t totalParameters = 0;
    std::string outputBlock;
    TaskKind task = TaskKind::ImplicitRanking;
    bool usesHistory = false;      // a block reads the behaviour sequence
    bool weighsBehaviours = false; // a block weighs behaviours (attention)
    bool attendsWithinSequence = false; // a block attends within the sequence (ModelAbilities::sequenceAttention)
    bool itemVectors = false;      // a block learns a vector per item (an item embedding table)
    bool nextItems = false;        // the output scores every item as the next one (ModelAbilities::nextItems)
    bool nextItemsEveryStep = false; // ... from a state after every entry of the sequence (not one per row)
    int64_t nextItemSteps = 1;       // ... K states per row for the next K items (ModelAbilities::nextItemSteps)
    int64_t widest = 0;            // the widest activation of any block, inner layers included
    unsigned textSources = 0;      // the text the graph reads (TextSource bits)

    bool ok() const { return issues.empty(); }
    const BlockAnalysis* block(const std::string& id) const;
    // A table of blocks (type, output shape, parameters), the total and the problems.
    std::string report() const;
};

GraphAnalysis analyseGraph(const GraphSpec& graph, const GraphContext& context = {});

// Why an edge from an output port to an input port would be refused (ports, kinds, an occupied
// input, a cycle, or a shape the target cannot take); empty when it can be made.
std::string connectionProblem(const GraphSpec& graph, const PortRef& from, const PortRef& to,
                              const GraphContext& context = {});

std::string formatCount(int64_t n); // 1234567 -> "1,234,567"
// The analysis' problems as one message ("graph: 2 problems: ...").
std::string graphProblems(const GraphAnalysis& analysis, const std::string& source);

} // namespace reclab
