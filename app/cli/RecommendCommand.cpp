#include "RecommendCommand.h"
#include "Commands.h"

#include "CliErrors.h"
#include "OptionChecks.h"
#include "zoo/ModelRegistry.h"
#include "models/Recommender.h"
#include "inspection/Recommendations.h"
#include "inspection/StoredRun.h"
#include "inspection/TextExplain.h"
#include "util/Words.h"
#include "train/TrainingSession.h"
#include "util/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace reclab::cli {

void addRecommendCommand(CLI::App& app, RecommendCliOptions& o)
{
    auto* cmd = addCommand(app, "recommend");
    addInspectionOptions(cmd, o);
    cmd->add_option("--k", o.k, "How many items")->check(CLI::Range(1, 1000))->capture_default_str();
    cmd->add_flag("--words", o.words,
                  "Text models: under each item, the words that moved its score most (content: each word's share of the "
                  "cosine; graphs: the score drop without the word)");
}

void addInspectionOptions(CLI::App* cmd, InspectionOptions& o)
{
    cmd->add_option("--run", o.run, "Run id")->required()->check(wholeNumberIn(1, 9.2e18L));
    cmd->add_option("--user", o.user, "The user's id as the dataset writes it (e.g. 196 in ml-100k)")->required();
    cmd->add_option("--db", o.db, "Experiment database (default: " + defaultDatabasePath() + ")");
    cmd->add_option("--data", o.data, "The run's dataset (default: where the run read it)");
    cmd->add_flag("--json", o.json, "Print JSON");
}

int runRecommend(const RecommendCliOptions& o)
{
    Inspected in;
    if (const int code = loadForInspection(o, in))
        return code;
    const int32_t user = in.user;
    const Dataset& data = *in.stored.data;
    RecommendOptions options;
    options.k = o.k;
    options.historyLength = in.stored.config.historyLength;
    const InteractionIndex index(data);
    recommend(*in.stored.model, index, user, options); // the first call pays LibTorch's one-time set-up
    const auto start = std::chrono::steady_clock::now();
    const std::vector<Recommendation> recs = recommend(*in.stored.model, index, user, options);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const std::string measure = becauseMeasure(*in.stored.model, data);
    if (o.json) {
        nlohmann::json items = nlohmann::json::array();
        for (const auto& r : recs) {
            nlohmann::json because = nlohmann::json::array();
            for (size_t k = 0; k < r.because.size(); ++k) {
                const auto [item, value] = r.because[k];
                because.push_back({{"item", data.itemIds[static_cast<size_t>(item)]}, {"title", itemTitle(data, item)}, {"value", value}});
                if (k < r.sharedWords.size())
                    because.back()["words"] = r.sharedWords[k];
            }
            items.push_back({{"item", data.itemIds[static_cast<size_t>(r.item)]},
                             {"title", itemTitle(data, r.item)},
                             {"genres", data.genresOf(r.item)},
                             {"score", r.score},
                             {"because", because}});
            if (o.words) {
                nlohmann::json effects = nlohmann::json::array();
                for (const auto& e : wordEffects(*in.stored.model, user, r.item))
                    effects.push_back({{"word", e.word}, {"effect", e.effect}});
                items.back()["word_effects"] = effects;
            }
        }
        nlohmann::json out{{"run", in.stored.run.id}, {"user", o.user}, {"milliseconds", ms}, {"because", measure}, {"items", items}};
        if (o.words)
            out["word_effect_measure"] = wordEffectMeasure(*in.stored.model);
        std::cout << out.dump(2) << std::endl;
        return 0;
    }
    std::printf("Top %zu for user %s from run %lld (%s), seen items left out (%.1f ms); because: %s\n", recs.size(),
                o.user.c_str(), static_cast<long long>(in.stored.run.id), in.stored.run.model.c_str(), ms, measure.c_str());
    int rank = 0;
    for (const auto& r : recs) {
        std::printf("%3d. %-50s %9.4f", ++rank, itemTitle(data, r.item).c_str(), r.score);
        if (!r.because.empty()) {
            std::printf(measure == "attention weight"                   ? "  attending to "
                        : measure == "score drop without the behaviour" ? "  because you just watched "
                        : measure == "text cosine"                      ? "  because its text resembles "
                                                                        : "  because you liked ");
            for (size_t k = 0; k < r.because.size(); ++k) {
                std::printf("%s%s", k ? "; " : "", itemTitle(data, r.because[k].first).c_str());
                if (k < r.sharedWords.size() && !r.sharedWords[k].empty())
                    std::printf(" (%s)", joinWith(r.sharedWords[k], ", ").c_str());
            }
        }
        std::printf("\n");
        if (o.words) {
            // The words that moved this item's score most, as a bar each.
            const auto effects = wordEffects(*in.stored.model, user, r.item);
            double largest = 1e-12;
            for (const auto& e : effects)
                largest = std::max(largest, std::abs(e.effect));
            for (size_t k = 0; k < std::min<size_t>(effects.size(), 6); ++k)
                std::printf("       %-16s %+8.4f %s\n", effects[k].word.c_str(), effects[k].effect,
                            std::string(static_cast<size_t>(std::lround(20 * std::abs(effects[k].effect) / largest)), '#').c_str());
        }
    }
    if (o.words)
        std::printf("(words: %s)\n", wordEffectMeasure(*in.stored.model));
    return 0;
}

int loadForInspection(const InspectionOptions& o, Inspected& out)
{
    const std::string dbPath = o.db.empty() ? defaultDatabasePath() : o.db;
    try {
        findStoredRun(dbPath, o.run);
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
    try {
        out.stored = loadStoredModel(dbPath, o.run, nullptr, o.data);
        out.user = userIndexOf(*out.stored.data, o.user);
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
    return 0;
}

} // namespace reclab::cli
