// DIN's attention over a user's behaviours, for the attention view and `reclab-cli attention`:
// for each candidate item, the activation weight the attention unit gives each behaviour
// (history items oldest first) and each weight's share of the candidate's total, with the
// model's score of the candidate.
#pragma once

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

} // namespace reclab
