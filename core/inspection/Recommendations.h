// Top-K recommendations for one user from a trained model, the items the user has already
// interacted with left out, each with "because you liked ..." : the liked items of the user's
// history most similar to it (cosine of the model's item embeddings, or of the items' user
// sets for models without embeddings). DIN scores each candidate against the user's latest
// behaviours, as it was trained, and explains it by the behaviours its attention weighed most.
// A next-item model (GRU4Rec, SASRec, Caser, NARM, seq2seq) explains it by "because you just
// watched ...": leave-one-out over the latest 10 behaviours, those whose absence lowers the
// item's score most (the drop is the value). A model that reads item text (content, hybrid)
// explains it by "because its text resembles ...": the liked items nearest by the TF-IDF cosine
// of their words, with the words they share (inspection/TextExplain.h).
#pragma once

#include "data/Dataset.h"
#include "models/Recommender.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace reclab {

struct Recommendation {
    int32_t item = 0;
    double score = 0.0;
    std::vector<std::pair<int32_t, double>> because; // history items and their similarity or weight
    std::vector<std::vector<std::string>> sharedWords; // text models: the words each because item shares with it
};

// Each user's interaction rows in time order and each item's users, built once per dataset so
// that one user's recommendations do not scan every interaction.
class InteractionIndex {
public:
    explicit InteractionIndex(const Dataset& data);
    const Dataset& data() const { return data_; }
    // Row indices of the user's interactions, oldest first.
    std::pair<const uint32_t*, const uint32_t*> rowsOf(int32_t user) const;
    // The users who interacted with the item, ascending.
    std::pair<const int32_t*, const int32_t*> usersOf(int32_t item) const;

private:
    const Dataset& data_;
    std::vector<uint32_t> userStart_, userRows_;
    std::vector<uint32_t> itemStart_;
    std::vector<int32_t> itemUsers_;
};

struct RecommendOptions {
    int k = 10;
    int explain = 3;          // "because" items per recommendation
    int historyLength = 50;   // behaviours a click-through model reads
};

// The user's latest `length` interactions, oldest first (what DIN reads as behaviours).
std::vector<int32_t> userHistory(const InteractionIndex& index, int32_t user, int length);
// The items the user liked: rated at least 4 on a scale with more than one value, else all.
std::vector<int32_t> likedItems(const InteractionIndex& index, int32_t user);


// Throws Error naming the user when there is no such user index.
std::vector<Recommendation> recommend(Recommender& model, const InteractionIndex& index, int32_t user,
                                      const RecommendOptions& options = {});

// A next-item model's state after each of the user's latest `steps` behaviours, as a path
// through the item space: each state placed by the k items it scores highest (their softmax
// weights), so that a map of the items can draw it at the weighted mean of their positions.
// Throws Error for a model that does not predict the next item or a user without behaviours.
struct UserPath {
    std::vector<int32_t> items; // the behaviours, oldest first: state t is the one after items[t]
    std::vector<std::vector<std::pair<int32_t, double>>> anchors; // per state: items and weights (sum 1)
};
UserPath userPath(Recommender& model, const InteractionIndex& index, int32_t user, int historyLength, int steps = 20,
                  int k = 10);

// What a Recommendation's `because` values measure for this model: "attention weight",
// "score drop without the behaviour" (next-item models), "text cosine" (text models),
// "item-embedding cosine" or "co-rater cosine".
const char* becauseMeasure(Recommender& model, const Dataset& data);

} // namespace reclab
