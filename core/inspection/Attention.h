// DIN's attention over a user's behaviours, for the attention view and `reclab-cli attention`:
// for each candidate item, the activation weight the attention unit gives each behaviour
// (history items oldest first) and each weight's share of the candidate's total, with the
// model's score of the candidate. And the attention inside a sequence model, which needs no
// candidate: each self-attention head's weights of every behaviour over the ones it sees
// (SASRec), and a seq2seq decoder's weights of each step over the behaviours.
#pragma once

#include "compiled/GraphModule.h"
#include "inspection/Recommendations.h"

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace reclab {

class Recommender;

struct AttentionMap {
    std::vector<int32_t> history;    // behaviours, oldest first
    std::vector<int32_t> candidates;
    torch::Tensor weights;           // [candidates, history]: raw activation weights
    torch::Tensor shares;            // [candidates, history]: weights / their row's sum
    std::vector<double> scores;      // the model's logit per candidate
};

// Throws Error when the model has no attention unit (not DIN), the user does not exist, or a
// candidate is not an item.
AttentionMap attentionMap(Recommender& model, const InteractionIndex& index, int32_t user,
                          const std::vector<int32_t>& candidates, int historyLength);

struct SequenceAttentionMaps {
    std::vector<int32_t> history;  // behaviours, oldest first
    std::vector<SequenceMap> maps; // in graph order; weights [rows, history]: a row per behaviour
                                   // (self-attention) or per decoding step ("decoder")
};

// Throws Error when the model has no attention inside the sequence, the user does not exist
// or has no behaviours.
SequenceAttentionMaps sequenceAttention(Recommender& model, const InteractionIndex& index, int32_t user, int historyLength);

} // namespace reclab
