#include "RecommendCommand.h"
#include "Commands.h"

#include "CliErrors.h"
#include "OptionChecks.h"
#include "zoo/ModelRegistry.h"
#include "models/Recommender.h"
#include "inspection/Recommendations.h"
#include "inspection/StoredRun.h"
#include "train/TrainingSession.h"
#include "util/Error.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace reclab::cli {

void addRecommendCommand(CLI::App& app, RecommendCliOptions& o)
{
    auto* cmd = addCommand(app, "recommend");
    addInspectionOptions(cmd, o);
    cmd->add_option("--k", o.k, "How many items")->check(CLI::Range(1, 1000))->capture_default_str();
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
            for (const auto& [item, value] : r.because)
                because.push_back({{"item", data.itemIds[static_cast<size_t>(item)]}, {"title", itemTitle(data, item)}, {"value", value}});
            items.push_back({{"item", data.itemIds[static_cast<size_t>(r.item)]},
                             {"title", itemTitle(data, r.item)},
                             {"genres", data.genresOf(r.item)},
                             {"score", r.score},
                             {"because", because}});
        }
        std::cout << nlohmann::json{{"run", in.stored.run.id}, {"user", o.user}, {"milliseconds", ms}, {"because", measure}, {"items", items}}.dump(2)
                  << std::endl;
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
                                                                        : "  because you liked ");
            for (size_t k = 0; k < r.because.size(); ++k)
                std::printf("%s%s", k ? "; " : "", itemTitle(data, r.because[k].first).c_str());
        }
        std::printf("\n");
    }
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
