#include "text/ColdScorers.h"

#include "data/UserItemIndex.h"
#include "text/ContentVectors.h"
#include "util/Error.h"
#include "util/Random.h"

#include <memory>

namespace reclab {

const char* coldScorerName(ColdScorer s)
{
    switch (s) {
    case ColdScorer::Content: return "content";
    case ColdScorer::ContentVectors: return "content-vectors";
    case ColdScorer::Popularity: return "popularity";
    case ColdScorer::Random: return "random";
    }
    return "content";
}

ColdScorer parseColdScorer(const std::string& name)
{
    for (const ColdScorer s : {ColdScorer::Content, ColdScorer::ContentVectors, ColdScorer::Popularity, ColdScorer::Random})
        if (name == coldScorerName(s))
            return s;
    throw ConfigError("scorer", "'" + name + "' is not one of content, content-vectors, popularity or random");
}

ItemScorer makeColdScorer(ColdScorer kind, const Dataset& ds, const ColdItemSplit& split, const ItemText* text,
                          const VocabularyVectors* vectors, float like, uint64_t seed)
{
    switch (kind) {
    case ColdScorer::Content:
    case ColdScorer::ContentVectors: {
        if (!text)
            throw ConfigError("scorer", std::string(coldScorerName(kind)) + " needs the items' text");
        if (kind == ColdScorer::ContentVectors && !vectors)
            throw ConfigError("scorer", "content-vectors needs word vectors (--vectors train or a vectors file)");
        auto items = std::make_shared<ContentVectors>(kind == ColdScorer::Content ? ContentVectors::tfidf(*text)
                                                                                  : ContentVectors::meanOfWords(*text, *vectors));
        auto profiles = std::make_shared<std::vector<std::vector<float>>>(userProfiles(*items, split.train, ds.numUsers(), like));
        return [items, profiles](int32_t u, const std::vector<int32_t>& list, std::vector<float>& out) {
            for (size_t k = 0; k < list.size(); ++k)
                out[k] = items->dot(list[k], (*profiles)[static_cast<size_t>(u)]);
        };
    }
    case ColdScorer::Popularity: {
        auto count = std::make_shared<std::vector<float>>(static_cast<size_t>(ds.numItems()));
        for (size_t r = 0; r < split.coldRows.size(); ++r)
            ++(*count)[static_cast<size_t>(split.coldRows.item[r])];
        auto seen = std::make_shared<UserItemIndex>(split.coldRows, ds.numUsers());
        // The user's own choices leave the count: they would give the target away.
        return [count, seen](int32_t u, const std::vector<int32_t>& list, std::vector<float>& out) {
            for (size_t k = 0; k < list.size(); ++k)
                out[k] = (*count)[static_cast<size_t>(list[k])] - (seen->contains(u, list[k]) ? 1.f : 0.f);
        };
    }
    case ColdScorer::Random: {
        auto rng = std::make_shared<Random>(seed);
        return [rng](int32_t, const std::vector<int32_t>& list, std::vector<float>& out) {
            for (size_t k = 0; k < list.size(); ++k)
                out[k] = static_cast<float>(rng->uniform());
        };
    }
    }
    return {};
}

} // namespace reclab
