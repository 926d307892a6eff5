// Tags describing a model family and its input (RecBole's taxonomy), torch-free.
#pragma once

namespace reclab {

enum class ModelFamily { General, Context, Sequential };
enum class InputType { Pointwise, Pairwise };
// What a model is trained and evaluated for; decides the split and the metrics.
// ClickThrough: a probability per (behaviour history, candidate) sample, AUC/GAUC/LogLoss.
enum class TaskKind { ImplicitRanking, RatingPrediction, ClickThrough };

} // namespace reclab
