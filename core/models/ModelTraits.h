// Tags describing a model family and its input (RecBole's taxonomy), torch-free.
#pragma once

namespace reclab {

enum class ModelFamily { General, Context, Sequential };
enum class InputType { Pointwise, Pairwise };
// What a model is trained and evaluated for; decides the split and the metrics.
enum class TaskKind { ImplicitRanking, RatingPrediction };

} // namespace reclab
