// The content-based recommender: an item is its text (TF-IDF of its words, or the mean of its
// words' vectors when the run has word vectors), a user is the mean of the items they liked in
// the training part, and the score is the cosine between the two. Nothing to train beyond the
// vectors, and an item no one has rated is scored like any other.
#pragma once

#include "models/ModelShape.h"
#include "models/Recommender.h"
#include "runs/TrainConfig.h"

#include <string>

namespace reclab {

class ContentModelImpl : public Recommender {
public:
    // Reads shape.dataset's text in config.textFields (ConfigError naming what is missing) and
    // shape.train; a training interaction is liked when rated config.positiveRating or more (all
    // of them on data whose ratings never reach it, such as implicit feedback).
    ContentModelImpl(const ModelShape& shape, const TrainConfig& config);

    ModelFamily family() const override { return ModelFamily::General; }
    InputType inputType() const override { return InputType::Pointwise; }
    int64_t numItems() const override { return items_.size(0); }
    bool trainable() const override { return false; }

    torch::Tensor calculateLoss(const Batch& batch) override;
    torch::Tensor predict(const torch::Tensor& users, const torch::Tensor& items) override;
    torch::Tensor fullSortPredict(const torch::Tensor& users) override;

    const torch::Tensor& itemVectors() const { return items_; } // [items, d], length 1 (0 without words)
    const torch::Tensor& profiles() const { return profiles_; } // [users, d], length 1 (0: liked nothing)
    const std::string& note() const { return note_; }
    // TF-IDF vectors: dimension w is word w of these (nullptr for the mean of word vectors).
    const std::vector<std::string>* wordDimensions() const { return tfidf_ ? &words_ : nullptr; }

private:
    torch::Tensor items_, profiles_; // [items, d], [users, d]
    std::string note_;
    bool tfidf_ = false;
    std::vector<std::string> words_;
};
TORCH_MODULE(ContentModel);

} // namespace reclab
