// Neighbourhood collaborative filtering: ItemKNN and UserKNN. Similarities between items (or
// users) are cosine on the binary interaction vectors, or Pearson correlation (cosine of the
// mean-centred rating vectors, each row centred on its own mean rating); RecBole's shrinkage
// divides by (|a| |b| + shrink). Only each row's k most similar neighbours are kept. Scores
// sum the similarities of the neighbours the user interacted with (ItemKNN) or of the
// neighbours who interacted with the item (UserKNN). Computed once from the training rows.
//
// With `ratings` the same similarities predict ratings, the classic neighbourhood CF
// (Resnick et al. 1994; Surprise's KNNWithMeans): user-based,
//   r(u, i) = mean(u) + sum_v s(u, v) (r(v, i) - mean(v)) / sum_v s(u, v)
// over the k users most similar to u among those who rated i, positive similarities only
// (item-based alike over the items u rated, centred on item means); no such neighbour gives
// mean(u).
#pragma once

#include "data/Dataset.h"
#include "models/Recommender.h"

namespace reclab {

struct NeighbourhoodOptions {
    enum Kind { ItemBased, UserBased } kind = ItemBased;
    enum Similarity { Cosine, Pearson } similarity = Cosine;
    int64_t numUsers = 0;
    int64_t numItems = 0;
    int64_t neighbours = 100; // k
    double shrink = 0.0;
    bool ratings = false; // predict ratings instead of ranking scores (see above)
};

class NeighbourhoodImpl : public Recommender {
public:
    // Throws ConfigError when the dense matrices would not fit comfortably in memory.
    NeighbourhoodImpl(const InteractionTable& train, const NeighbourhoodOptions& options);

    ModelFamily family() const override { return ModelFamily::General; }
    InputType inputType() const override { return InputType::Pointwise; }
    int64_t numItems() const override { return options_.numItems; }
    bool trainable() const override { return false; }

    torch::Tensor calculateLoss(const Batch& batch) override;
    // Ranking scores, or ratings when options.ratings.
    torch::Tensor predict(const torch::Tensor& users, const torch::Tensor& items) override;
    torch::Tensor fullSortPredict(const torch::Tensor& users) override;

    // The pruned similarity matrix (items x items or users x users), and how long it took.
    const torch::Tensor& similarities() const { return similarity_; }
    double similaritySeconds() const { return similaritySeconds_; }

private:
    NeighbourhoodOptions options_;
    torch::Tensor interactions_; // [users, items], 1 where the user interacted
    torch::Tensor similarity_;   // row a: the k neighbours' similarities, 0 elsewhere (ratings: all of them)
    double similaritySeconds_ = 0;
    // Rating prediction, indexed by the pair's other side (the item for user-based, the user
    // for item-based): who the candidates are, their mean-centred ratings; and the base mean
    // of the query side.
    torch::Tensor candidates_, centred_, means_;
    torch::Tensor predictRatings(const torch::Tensor& users, const torch::Tensor& items) const;
};
TORCH_MODULE(Neighbourhood);

} // namespace reclab
