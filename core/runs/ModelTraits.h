// Tags describing a model family and its input (RecBole's taxonomy), and what a model can do,
// torch-free.
#pragma once

#include <cstdint>

namespace reclab {

enum class ModelFamily { General, Context, Sequential };
enum class InputType { Pointwise, Pairwise };
// What a model is trained and evaluated for; decides the split and the metrics.
// ClickThrough: a probability per (behaviour history, candidate) sample, AUC/GAUC/LogLoss.
enum class TaskKind { ImplicitRanking, RatingPrediction, ClickThrough };

// What a trained model offers the views, asked of the model (its graph's blocks, or the
// hand-written model's entry in the registry) rather than read from its name.
struct ModelAbilities {
    TaskKind task = TaskKind::ImplicitRanking;
    bool trainable = true;         // learned over epochs (false: computed once from counts)
    bool itemEmbeddings = false;   // a learned vector per item (the projector shows them)
    bool readsHistory = false;     // scores a candidate against the user's behaviour history
    bool weighsBehaviours = false; // weighs those behaviours (the Attention view shows the weights)
    bool sequenceAttention = false; // attends within the behaviour sequence (SASRec, seq2seq: the Attention view's maps)
    bool clickLogits = false;      // scores are logits of a click probability (a logistic output)
    // Scores every item as the user's next one (a next-item output): trained on windows of each
    // user's history, every position's next item a target (cross-entropy over all items).
    bool nextItems = false;
    // ... from a state after every position (a window trains every target at once); otherwise
    // one state per history, trained on each target after the history before it.
    bool nextItemsEveryStep = false;
    // States per row for the next K items (an attention decoder's): the row's target and the
    // K − 1 training items after it.
    int64_t nextItemSteps = 1;

    bool ratings() const { return task == TaskKind::RatingPrediction; }
};

} // namespace reclab
