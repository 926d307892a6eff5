// The policies that learn from a stored run: LinUCB over the run's user and item vectors, and the
// REINFORCE re-ranker, a softmax policy over a base model's candidates whose learned part is a
// compiled graph (resources/graphs/reinforce.json) like every other model.
#pragma once

#include "rl/SlatePolicy.h"

#include <torch/types.h>

#include <functional>
#include <memory>

namespace reclab {

class Recommender;

// The base run's score of an item for a user (a logit: higher is better).
using BaseScore = std::function<double(int32_t user, int32_t item)>;

// LinUCB (Li et al. 2010) with features x(u, i) = [u ⊙ v_i, 1, log(1 + shows)]: the run's user
// and item vectors (each scaled to unit mean square), a constant and how often this policy
// already showed i to u. A shared linear part θ (ridge, A⁻¹ kept by Sherman–Morrison updates)
// plus a per-item intercept β_i (the ridge mean of each item's residuals), so the policy can
// correct items the run misjudged: score θᵀx + β_i + α √(xᵀA⁻¹x + 1 / (λ + n_i)).
std::unique_ptr<SlatePolicy> makeLinUcb(torch::Tensor userVectors, torch::Tensor itemVectors,
                                        const LinUcbSettings& settings);

// The REINFORCE re-ranker: π(i | u) = softmax over the candidates of z(u, i) / τ + g(u, i), z the
// base score's z-score among the candidates, g the graph `net` (its click logit); the slate is k
// draws from π without replacement (Gumbel top-k). Every `batch` steps Adam lowers −Σ w · λ_K · (r − b) · log π(a) over the observed items
// (Williams 1992, with Chen et al. 2019's top-K correction λ_K = K (1 − π(a))^(K−1); b the mean
// reward so far). On-policy (the simulator) w = 1; offPolicy (the replay) w = min(π(a) / β(a),
// cap), β(a) the log's share of a among the candidates so far (its logging policy), the
// correction of learning from logged choices.
std::unique_ptr<SlatePolicy> makeReinforce(std::shared_ptr<Recommender> net, BaseScore base,
                                           const ReinforceSettings& settings, uint64_t seed, bool offPolicy);

// The base run's own ranking: the candidates by base score, always the same for a user.
std::unique_ptr<SlatePolicy> makeBaseRanking(BaseScore base);

} // namespace reclab
