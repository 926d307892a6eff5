#include "zoo/ModelFactory.h"

#include "compiled/GraphModule.h"
#include "compiled/GraphText.h"
#include "models/BPRMF.h"
#include "models/BayesianMF.h"
#include "models/SVDpp.h"
#include "models/ContentModel.h"
#include "models/NeighbourhoodModel.h"
#include "models/Popularity.h"
#include "util/Error.h"
#include "zoo/ModelRegistry.h"

namespace reclab {

namespace {

std::shared_ptr<Recommender> neighbourhood(NeighbourhoodOptions::Kind kind, bool ratings, const ModelShape& s,
                                           const TrainConfig& c)
{
    NeighbourhoodOptions o;
    o.kind = kind;
    o.ratings = ratings;
    o.similarity = c.similarity == "pearson" ? NeighbourhoodOptions::Pearson : NeighbourhoodOptions::Cosine;
    o.numUsers = s.numUsers;
    o.numItems = s.numItems;
    o.neighbours = c.neighbours;
    o.shrink = c.shrink;
    return std::make_shared<NeighbourhoodImpl>(*s.train, o);
}

// The sizes every hand-written factor model takes from the data and the run.
template <typename Options> Options factorOptions(const ModelShape& s, const TrainConfig& c)
{
    Options o;
    o.numUsers = s.numUsers;
    o.numItems = s.numItems;
    o.factors = c.factors;
    return o;
}

} // namespace

std::shared_ptr<Recommender> createModel(const ModelInfo& info, const ModelShape& s, const TrainConfig& c)
{
    if (info.graph)
        return compileGraph(info.graph(c), s, c);
    if (info.name == "bpr") {
        auto o = factorOptions<BPRMFOptions>(s, c);
        o.l2 = c.l2;
        return std::make_shared<BPRMFImpl>(o);
    }
    if (info.name == "svdpp") {
        auto o = factorOptions<SVDppOptions>(s, c);
        o.globalMean = s.globalMean;
        o.l2 = c.l2;
        o.implicitL2 = kSvdppImplicitL2 * c.l2;
        return std::make_shared<SVDppImpl>(*s.train, o);
    }
    if (info.name == "bpmf") {
        if (c.device != "cpu")
            throw ConfigError("device", "Bayesian MF samples on the CPU; run it with --device cpu");
        auto o = factorOptions<BayesianMFOptions>(s, c);
        o.globalMean = s.globalMean;
        o.burnIn = c.burnIn;
        o.seed = c.seed;
        return std::make_shared<BayesianMFImpl>(*s.train, o);
    }
    if (info.name == "itemknn")
        return neighbourhood(NeighbourhoodOptions::ItemBased, false, s, c);
    if (info.name == "userknn")
        return neighbourhood(NeighbourhoodOptions::UserBased, false, s, c);
    if (info.name == "usercf")
        return neighbourhood(NeighbourhoodOptions::UserBased, true, s, c);
    if (info.name == "itemcf")
        return neighbourhood(NeighbourhoodOptions::ItemBased, true, s, c);
    if (info.name == "content")
        return std::make_shared<ContentModelImpl>(s, c);
    if (info.name == "pop")
        return std::make_shared<PopularityImpl>(*s.train, s.numItems);
    throw ConfigError("model", "no factory builds model '" + info.name + "'");
}

std::shared_ptr<Recommender> compileGraph(const GraphSpec& graph, const ModelShape& shape, const TrainConfig& config)
{
    GraphData data = GraphData::from(shape);
    if (shape.dataset) {
        // Text only for graphs that read it: the analysis over the data's sizes says which.
        const GraphContext sizes = graphContextOf(*shape.dataset);
        data.textFields = sizes.textFields; // so that a graph's other problems are reported as they are
        const GraphAnalysis analysis = analyseGraph(graph, sizes);
        if (analysis.ok() && analysis.textSources)
            addGraphText(data, shape, analysis, config);
    }
    auto model = std::make_shared<GraphModelImpl>(graph, std::move(data), config.l2);
    model->setSampledLoss(config.loss);
    model->setLabelSmoothing(config.labelSmoothing);
    return model;
}

} // namespace reclab
