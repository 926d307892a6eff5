// Everything that defines a training run besides the data: model name and hyperparameters.
// Serialised as JSON into the experiment store so a run can be reproduced exactly.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace reclab {

// The model name of a run that trains its own graph (TrainConfig::graph) rather than a model of the registry.
inline constexpr const char* kCustomGraphModel = "graph";

struct TrainConfig {
    std::string model = "neumf"; // a model of the registry, or kCustomGraphModel for the graph below
    nlohmann::json graph;        // model "graph": the model graph (GraphSpec's JSON)
    int epochs = 20;
    int batchSize = 256;
    double learningRate = 1e-3;
    double l2 = 0.0;            // L2 weight (MF: on the batch's rows)
    std::string optimizer = "adam"; // adam, sgd or adagrad (torch.optim's update rules)
    double weightDecay = 0.0;       // the optimizer's L2 on every parameter (torch.optim's weight_decay)
    double momentum = 0.0;          // sgd
    // "constant": learningRate throughout (or as changed live); "cosine": each step's rate is
    // learningRate · ½(1 + cos(π t)), t the share of the run's epochs done before the step
    // (Loshchilov and Hutter's SGDR without restarts), ending near zero.
    std::string lrSchedule = "constant";
    uint64_t seed = 42;
    int threads = 0;            // intra-op and evaluation threads; 0: defaults (see useThreads in Trainer.h)
    std::string device = "cpu"; // "cpu", "cuda" or "cuda:N"
    // Data-parallel training across processes (dist/): how many ranks the run trains on, and how
    // embedding tables' gradients travel between them ("rows": the rows a step touched;
    // "dense": the whole table in the all-reduce).
    int worldSize = 1;
    std::string gradientExchange = "rows";
    int negatives = 4;          // sampled negatives per positive (implicit models)
    int factors = 8;            // GMF / MF latent size
    std::vector<int64_t> mlpLayers = {64, 32, 16, 8};
    bool pretrain = false; // neumf (or a graph with a pretrain section): start from trained GMF and MLP
    double pretrainAlpha = 0.5;        // neumf pre-training: weight of GMF's output layer
    std::string similarity = "cosine"; // itemknn / userknn: cosine or pearson
    int neighbours = 100;              // itemknn / userknn: k
    double shrink = 0.0;               // itemknn / userknn: added to the similarity's denominator
    int burnIn = 0;                    // bpmf: Gibbs sweeps drawn before the predictions are averaged
    // base / din (Zhou et al. 2018): factors is the embedding size of each field (item, genre),
    // mlpLayers the hidden sizes of the network over [pooled behaviours, candidate].
    std::vector<int64_t> attentionLayers = {80, 40}; // din: the local activation unit's hidden sizes
    std::string activation = "dice";                 // base / din: dice or prelu
    int historyLength = 50;                          // base / din: behaviours kept per sample; sequence models: window length
    // Next-item models (ModelAbilities::nextItems): "ce", windows of the history with the next item
    // of every position a target, cross-entropy over all items; "bce", the same windows with
    // negatives sampled beside each target (the SASRec paper's −log σ(s⁺) − Σ log(1 − σ(s⁻)));
    // "bpr", one negative beside each target, −log σ(s⁺ − s⁻).
    std::string loss = "ce";
    // "ce" only: the target keeps 1 − ε of the label and ε is spread evenly over every item, so the
    // loss is (1 − ε)·CE + ε·mean over items of −log p (torch's label_smoothing).
    double labelSmoothing = 0.0;
    double positiveRating = 4.0;                     // base / din: label 1 when rating >= this
    // Graphs that read item text (text/ItemText.h, compiled/GraphText.h): the fields of an item's
    // own words, the vocabulary's minimum count, and the word vectors a word embedding starts
    // from: "" none (random), "train" (fastText on the dataset's text, wordDim wide) or a file
    // (word2vec text or binary, GloVe, fastText .vec).
    std::string textFields = "title,genres,tags,year";
    int textMinCount = 2;
    std::string wordVectors;
    int wordDim = 64;
    // Evaluation protocol; empty: the model's usual one. Ranking models: "loo" (leave-one-out,
    // the held-out item against evalNegatives sampled items, the default) or "full" (against
    // every item unseen in training). Rating models: "holdout" (a seeded random testFraction
    // of the ratings, the default) or "folds" (MovieLens-100K's predefined uK.base/uK.test).
    // Click-through models (base, din): "din", every rating a sample with its history, a
    // seeded testFraction of the users held out.
    std::string protocol;
    int fold = 1; // "folds": which of u1..u5
    int evalNegatives = 99;     // sampled ranking protocol
    int topK = 10;
    double testFraction = 0.2;  // rating models: random hold-out share; din: share of test users
    double coldShare = 0.1;     // the cold protocol: the share of items held out with all their interactions
    int reportEveryBatches = 20; // loss points on the chart
    // Early stopping. Empty: no validation part; every epoch is evaluated on the test part (as the
    // NCF and DIN papers report). A metric of the task ("ndcg@10", "hr", "rmse", "gauc"; a ranking
    // metric without @K gets topK): a validation part is held out of the training data (each
    // user's latest but one interaction for loo/full, validationFraction of the rows or users
    // otherwise), every epoch is evaluated on it ("val_" metrics), the best epoch's weights are
    // kept, training stops after `patience` epochs without improvement (0: never early), and the
    // test part is evaluated once, with the best weights.
    std::string validationMetric;
    int patience = 3;
    double validationFraction = 0.1;
    // Rows that repeat a (user, item) pair. Empty: a ranking protocol (loo, full) refuses data
    // that has them, since leave-one-out would hold out one copy and train on the other;
    // "latest": each pair's latest row is kept (as data prepare --dedup does); "keep": all are.
    std::string duplicates;

    bool customGraph() const { return model == kCustomGraphModel; }
    // The validation metric as the task names it ("ndcg@10"); empty without validation.
    std::string validationKey() const;

    // The fields and the rules between them; throws ConfigError naming the offending option.
    // What the model itself asks of them is checked by checkConfig (zoo/ModelRegistry.h).
    void validate() const;
    nlohmann::json toJson() const;
    // Starts from defaults and overrides every key present; throws ConfigError on a bad value.
    static TrainConfig fromJson(const nlohmann::json& json);
};

} // namespace reclab
