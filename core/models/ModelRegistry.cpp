#include "models/ModelRegistry.h"

#include "models/BiasedMF.h"
#include "models/NeuMF.h"
#include "models/Popularity.h"
#include "util/Error.h"

namespace reclab {

namespace {

TrainConfig ncfDefaults(const char* name)
{
    TrainConfig c;
    c.model = name;
    c.epochs = 20;
    c.batchSize = 256;
    c.learningRate = 1e-3;
    c.factors = 8;
    c.mlpLayers = {64, 32, 16, 8};
    c.negatives = 4;
    return c;
}

TrainConfig mfDefaults()
{
    TrainConfig c;
    c.model = "mf";
    c.epochs = 20;
    c.batchSize = 256;
    c.learningRate = 2e-3;
    c.factors = 32;
    c.l2 = 0.1;
    return c;
}

TrainConfig popDefaults()
{
    TrainConfig c;
    c.model = "pop";
    c.epochs = 1;
    return c;
}

// GMF, MLP and NeuMF: one module with the branches asked for.
std::function<std::shared_ptr<Recommender>(const ModelShape&, const TrainConfig&)> ncfFactory(NcfBranches branches)
{
    return [branches](const ModelShape& s, const TrainConfig& c) -> std::shared_ptr<Recommender> {
        NeuMFOptions o;
        o.branches = branches;
        o.numUsers = s.numUsers;
        o.numItems = s.numItems;
        o.gmfFactors = c.factors;
        o.mlpLayers = c.mlpLayers;
        return std::make_shared<NeuMFImpl>(o);
    };
}

std::vector<ModelInfo> buildRegistry()
{
    std::vector<ModelInfo> models;
    models.push_back({"neumf", "NeuMF",
                      "Neural matrix factorisation: GMF and MLP branches fused (He et al. 2017)",
                      TaskKind::ImplicitRanking, ModelFamily::General, InputType::Pointwise, ncfDefaults("neumf"),
                      ncfFactory(NcfBranches::Both)});
    models.push_back({"gmf", "GMF",
                      "Generalized matrix factorisation: element-wise product of embeddings, weighted (He et al. 2017)",
                      TaskKind::ImplicitRanking, ModelFamily::General, InputType::Pointwise, ncfDefaults("gmf"),
                      ncfFactory(NcfBranches::GmfOnly)});
    models.push_back({"mlp", "MLP",
                      "NCF's multi-layer perceptron over concatenated user and item embeddings (He et al. 2017)",
                      TaskKind::ImplicitRanking, ModelFamily::General, InputType::Pointwise, ncfDefaults("mlp"),
                      ncfFactory(NcfBranches::MlpOnly)});
    models.push_back({"mf", "Biased MF",
                      "Matrix factorisation with user and item biases for rating prediction (Koren 2009)",
                      TaskKind::RatingPrediction, ModelFamily::General, InputType::Pointwise, mfDefaults(),
                      [](const ModelShape& s, const TrainConfig& c) -> std::shared_ptr<Recommender> {
                          BiasedMFOptions o;
                          o.numUsers = s.numUsers;
                          o.numItems = s.numItems;
                          o.factors = c.factors;
                          o.globalMean = s.globalMean;
                          o.l2 = c.l2;
                          return std::make_shared<BiasedMFImpl>(o);
                      }});
    models.push_back({"pop", "Popularity", "Ranks items by their number of training interactions",
                      TaskKind::ImplicitRanking, ModelFamily::General, InputType::Pointwise, popDefaults(),
                      [](const ModelShape& s, const TrainConfig&) -> std::shared_ptr<Recommender> {
                          return std::make_shared<PopularityImpl>(*s.train, s.numItems);
                      }});
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

} // namespace reclab
