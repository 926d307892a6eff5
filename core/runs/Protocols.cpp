#include "runs/Protocols.h"

#include "runs/Metrics.h"
#include "runs/TrainConfig.h"
#include "util/Words.h"

#include <cmath>

namespace reclab {

const std::vector<ProtocolInfo>& protocolCatalogue()
{
    static const std::vector<ProtocolInfo> protocols = {
        {"loo", TaskKind::ImplicitRanking, true, false, false},
        {"full", TaskKind::ImplicitRanking, false, true, false},
        {"holdout", TaskKind::RatingPrediction, true, false, false},
        {"folds", TaskKind::RatingPrediction, false, false, true},
        {"din", TaskKind::ClickThrough, true, false, false},
        {"common", TaskKind::ImplicitRanking, false, true, false, true},
        {"cold", TaskKind::ImplicitRanking, false, true, false, false, true},
    };
    return protocols;
}

const ProtocolInfo* findProtocol(const std::string& id)
{
    for (const auto& p : protocolCatalogue())
        if (p.id == id)
            return &p;
    return nullptr;
}

const ProtocolInfo& commonProtocol()
{
    return *findProtocol("common");
}

const ProtocolInfo& defaultProtocolFor(TaskKind task)
{
    for (const auto& p : protocolCatalogue())
        if (p.task == task && p.taskDefault)
            return p;
    return protocolCatalogue().front();
}

const ProtocolInfo& protocolOf(TaskKind task, const std::string& id)
{
    const ProtocolInfo* p = findProtocol(id);
    return p ? *p : defaultProtocolFor(task);
}

std::vector<const ProtocolInfo*> protocolsFor(TaskKind task)
{
    std::vector<const ProtocolInfo*> out;
    for (const auto& p : protocolCatalogue())
        if (p.fits(task))
            out.push_back(&p);
    return out;
}

std::string protocolIds(const std::vector<const ProtocolInfo*>& protocols)
{
    std::vector<std::string> ids;
    for (const ProtocolInfo* p : protocols)
        ids.push_back(p->id);
    return joinWords(ids, " or ");
}

std::string protocolIds()
{
    std::vector<const ProtocolInfo*> all;
    for (const auto& p : protocolCatalogue())
        all.push_back(&p);
    return protocolIds(all);
}

namespace {

std::string percent(double share) { return std::to_string(static_cast<int>(std::lround(share * 100))); }

// "HR, NDCG and MRR at 10", "RMSE and MAE": the metrics the protocol reports.
std::string metricsText(const ProtocolInfo& p, int topK)
{
    std::vector<std::string> labels;
    bool atK = false;
    for (const auto& key : taskMetricNames(p.task, p.id, topK)) {
        const MetricTraits* traits = metricTraits(key);
        labels.push_back(traits ? traits->label : key);
        atK = atK || (traits && traits->atK);
    }
    const std::string out = joinWords(labels);
    return atK ? out + " at " + std::to_string(topK) : out;
}

} // namespace

std::string protocolLabel(const ProtocolInfo& p, const TrainConfig& c, int fold)
{
    const std::string train = percent(1 - c.testFraction), test = percent(c.testFraction);
    if (p.id == "loo")
        return "Leave-one-out, " + std::to_string(c.evalNegatives) + " negatives";
    if (p.id == "full")
        return "Full ranking";
    if (p.id == "holdout")
        return "Random " + train + "/" + test + " hold-out";
    if (p.id == "folds")
        return "ml-100k fold u" + std::to_string(fold > 0 ? fold : c.fold);
    if (p.id == "cold")
        return "Cold items: " + percent(c.coldShare) + "% of the items held out";
    if (p.anyTask)
        return "Common: latest item, " + std::to_string(c.evalNegatives) + " negatives and all items";
    return "Behaviour histories, users " + train + "/" + test;
}

std::string protocolDescription(const ProtocolInfo& p, const TrainConfig& c)
{
    const std::string measured = metricsText(p, c.topK) + ".";
    if (p.id == "loo")
        return "Each user's latest interaction is ranked against " + std::to_string(c.evalNegatives) +
               " sampled negatives; " + measured + " Early stopping validates on the latest but one.";
    if (p.id == "full")
        return "Each user's latest interaction is ranked against every item the user did not train on; " + measured;
    if (p.id == "holdout")
        return "A random " + percent(c.testFraction) + "% of the ratings is held out; " + measured;
    if (p.id == "folds")
        return "MovieLens-100K's own split: train on uK.base, test on uK.test; " + measured;
    if (p.id == "cold")
        return "A seeded " + percent(c.coldShare) +
               "% of the items is held out with all their interactions, as if just arrived; models train on "
               "the rest. Each user who chose a cold item is tested on the latest one, ranked against 100 sampled "
               "cold items they did not choose (HR, NDCG, MRR at " +
               std::to_string(c.topK) + ") and against all of them (full_). Models that read only ids never saw "
               "a cold item, so they rank cold items at random; content and hybrid models score them from text.";
    if (p.anyTask)
        return "One split for every model: each user's latest interaction is held out (the one before it "
               "for validation) and ranked against the same " +
               std::to_string(c.evalNegatives) +
               " sampled negatives and against every unseen item; models that read a history score it "
               "from the user's earlier interactions. HR, NDCG and MRR at " +
               std::to_string(c.topK) +
               " (sampled, and full_ over all items), AUC and GAUC over the same candidates; LogLoss for "
               "click probabilities, RMSE and MAE for rating models.";
    return "Every rating is a sample scored from the user's " + std::to_string(c.historyLength) +
           " earlier ratings (items and genres); positive when rated " + shortNumber(c.positiveRating) + " or more; " +
           percent(c.testFraction) + "% of the users held out. " + measured;
}

} // namespace reclab
