// A model graph compiled to a LibTorch module that the trainer runs like any recommender.
// Each block with weights becomes a named submodule (an embedding table under its table name,
// otherwise under the block's id), so checkpoints and exports read as the graph does.
//
// Values stay lazy where that saves work without changing a number: an embedding lookup is
// kept as (table, indices) until something needs the rows, concatenations of lookups with the
// same indices concatenate the tables, and sequences are packed to their real entries.
// Scoring every item for a user (fullSortPredict) evaluates user-only parts once per user,
// item-only parts once per item, and a linear layer over [user part; item part] as the sum of
// two smaller products, as the hand-written NCF did. Scoring candidates against one user's
// history (scoreHistory) computes the per-behaviour values once for all of them.
#pragma once

#include "graph/GraphAnalysis.h"
#include "graph/GraphSpec.h"
#include "models/ModelShape.h"
#include "models/Recommender.h"

#include <torch/nn/modules/embedding.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <memory>
#include <vector>

namespace reclab {

// Everything the graph reads besides the batch, as tensors.
struct GraphData {
    int64_t numUsers = 0;
    int64_t numItems = 0;
    int64_t numGenres = 0;
    double globalMean = 0.0;
    torch::Tensor genreMix;      // [numItems, numGenres]; a row is 1/|G(i)| on the item's genres
    torch::Tensor userFeatures;  // [numUsers, 2]: age / 100, female
    torch::Tensor itemFeatures;  // [numItems, 1]: (year - 1900) / 100
    torch::Tensor inverseCounts; // [numItems + 1]: 1 / n_j (mini-batch aware L2), 0 if unseen
    // Categorical profile fields (data/ProfileFields.h): codes per user [numUsers, 4] (gender, age
    // group, occupation, postal region) and per item [numItems, 2] (year, decade), int64, 0 unknown.
    std::array<int64_t, 6> fieldSizes = {};
    torch::Tensor userFields, itemFields;
    // Text, for graphs with text inputs (GraphText.h): word ids + 1 per row, 0 padding.
    int64_t numWords = 0;
    unsigned textFields = 0;        // the fields the data has (ItemText.h fieldBit)
    torch::Tensor itemWords;        // [numItems, T]: each item's title, genres and tags
    torch::Tensor itemReviewWords;  // [numItems, T]: the reviews of the item (training pairs)
    torch::Tensor userReviewWords;  // [numUsers, T]: the reviews the user wrote (training pairs)
    torch::Tensor wordVectors;      // [numWords + 1, d]: loaded or trained vectors, row 0 padding; undefined: none
    torch::Tensor wordKnown;        // [numWords + 1, 1]: 1 where the vectors had the word (and the padding row)
    std::shared_ptr<const std::vector<std::string>> vocabulary; // word w is row w + 1
    std::string textNote; // what was built: words, fields, vectors (one sentence)

    static GraphData from(const ModelShape& shape);
    GraphContext context() const
    {
        GraphContext c{numUsers, numItems, numGenres, 0};
        c.numWords = numWords;
        c.textFields = textFields;
        c.fieldSizes = fieldSizes;
        return c;
    }
};

// One attention map inside a sequence model: the block, which of its maps ("head 2", "decoder"),
// and the weights of each row (a position or a decoding step) over the history's entries.
struct SequenceMap {
    std::string block, label;
    torch::Tensor weights; // [rows, L]
};

class GraphModelImpl : public Recommender {
public:
    // Throws GraphError listing the analysis' problems when the graph is not valid for data of
    // this shape. l2 is the run's weight for the embedding regularisers.
    GraphModelImpl(GraphSpec graph, const GraphData& data, double l2);

    ModelFamily family() const override;
    InputType inputType() const override { return InputType::Pointwise; }
    int64_t numItems() const override { return data_.numItems; }

    torch::Tensor forward(const Batch& batch);
    torch::Tensor calculateLoss(const Batch& batch) override;
    // On a CPU, graphs of ids, embeddings, products, concatenations, linear layers and MLPs with
    // a click or rating output take a fused step without autograd (FusedStep.h); the others,
    // and any batch it does not accept, go through autograd.
    torch::Tensor trainingStep(const Batch& batch, double weight = 1.0) override;
    // Off: every step through autograd (for comparing the two).
    void setFusedSteps(bool on) { fusedSteps_ = on; }
    bool spreadsTraining() const override;
    // Whether the graph has a fused step, and if not, why not (planned on first call).
    bool hasFusedStep(std::string* why = nullptr);
    // The next-item loss with sampled negatives: "bce" (the default) or "bpr" (TrainConfig::loss).
    void setSampledLoss(std::string loss) { sampledLoss_ = std::move(loss); }
    // Cross-entropy over all items: the share ε of each target's label spread over every item.
    void setLabelSmoothing(double epsilon) { labelSmoothing_ = epsilon; }
    torch::Tensor predictBatch(const Batch& batch) override;
    // Graphs that read a behaviour history throw std::logic_error here (use predictBatch).
    torch::Tensor predict(const torch::Tensor& users, const torch::Tensor& items) override;
    torch::Tensor fullSortPredict(const torch::Tensor& users) override;
    // Through scoreHistory (and the attention table) where the graph shares its history.
    torch::Tensor scoreWithHistory(int64_t user, const std::vector<int32_t>& history, const torch::Tensor& candidates,
                                   int historyLength) override;

    const GraphSpec& graph() const { return graph_; }
    const GraphAnalysis& analysis() const { return analysis_; }
    TaskKind task() const { return analysis_.task; }

    // Pre-training (GraphPretrain): weights of equal names copied from the parts, and the fuse
    // linear block made of the parts' own fuse weights scaled by alpha, (1 - alpha) / (n - 1).
    void loadPretrained(const std::vector<const GraphModelImpl*>& parts, double alpha);

    // Behaviour weights [rows, L] of the batch's last forward in evaluation through a block that
    // weighs behaviours (0 on padding); undefined when the graph has none.
    torch::Tensor lastAttention() const { return lastAttention_; }

    // One user's behaviours against many candidates (recommendations, attention maps): each
    // per-behaviour value is computed once for the history instead of once per candidate, and
    // the attention unit's weights come from the prepared table when there is a fresh one.
    // history: the real behaviours [L] (oldest first, no padding); candidates [n]. Returns the
    // scores [n] that predictBatch gives these candidates with this history, and in *weights
    // the behaviour weights [n, L] (graphs with a block that weighs behaviours). In evaluation mode
    // only; throws std::logic_error when sharesHistory() is false (a graph that mixes a
    // behaviour with a candidate or user value before pooling them).
    bool sharesHistory() const { return shared_.supported; }
    torch::Tensor scoreHistory(int64_t user, const torch::Tensor& history, const torch::Tensor& candidates,
                               torch::Tensor* weights = nullptr);
    // DIN's attention unit reads a behaviour item's vector and a candidate item's vector and
    // nothing of the user, so its weight for every (behaviour, candidate) pair of a catalogue
    // can be computed once: [items, items] floats, used by scoreHistory until a parameter
    // changes (training, loading). Returns false, computing nothing, when the graph's unit reads
    // more than the two items or the catalogue has more than maxItems items (the table grows
    // with its square: 4,096 items take 64 MB).
    bool prepareAttentionTable(int64_t maxItems = 4096);
    // The attention inside a sequence model for one history [L] (oldest first): each
    // self-attention head's weights of every entry over the entries it sees [L, L] and an
    // attention decoder's weights of each step over the entries [K, L], in graph order.
    // Empty when the graph has neither; throws std::logic_error as scoreHistory does.
    std::vector<SequenceMap> sequenceAttention(int64_t user, const torch::Tensor& history);
    bool hasAttentionTable() const;

    struct Step; // one block, compiled (BlockKernel.h)
    const std::vector<std::shared_ptr<Step>>& steps() const { return steps_; }
    const GraphData& data() const { return data_; }

private:
    void build();
    // The graph's output for the batch; with next-item targets, the logits over all items of each
    // position with a target, and those targets in *targets.
    torch::Tensor run(const Batch& batch, torch::Tensor* penalty, torch::Tensor* targets = nullptr);
    // scoreHistory's evaluation; collecting, it stops at the tabulated block and returns its
    // inputs there (keys, query) instead of scores.
    torch::Tensor runShared(int64_t user, const torch::Tensor& history, const torch::Tensor& candidates,
                            torch::Tensor* weights, torch::Tensor* keys = nullptr, torch::Tensor* query = nullptr,
                            std::vector<SequenceMap>* maps = nullptr);
    std::vector<int64_t> parameterVersions() const;

    GraphSpec graph_;
    GraphAnalysis analysis_;
    GraphData data_;
    double l2_;
    std::string sampledLoss_ = "bce";
    double labelSmoothing_ = 0.0;
    torch::Tensor nextItemLoss(const torch::Tensor& out, const torch::Tensor& targets, bool sampled) const;
    std::vector<std::shared_ptr<Step>> steps_; // dependency order
    bool fusedSteps_ = true, fusedPlanned_ = false;
    std::shared_ptr<class FusedStep> fused_;
    std::string fusedRefusal_;
    torch::Tensor lastAttention_;
    struct SharedHistoryPlan {
        bool supported = false;     // runShared can evaluate the graph
        int64_t attentionStep = -1; // the one weighing block whose weights a table can hold
    } shared_;
    torch::Tensor attentionTable_;           // [behaviour item, candidate item]
    std::vector<int64_t> attentionVersions_; // the parameters' versions it was computed with
};
TORCH_MODULE(GraphModel);

} // namespace reclab
