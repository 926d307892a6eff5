#include "RecommendCommand.h"
#include "RunData.h"

#include "models/ModelRegistry.h"
#include "models/Recommender.h"
#include "project/Recommendations.h"
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
    auto* cmd = app.add_subcommand("recommend", "A stored run's top-K items for one user, seen items left out, with why");
    cmd->add_option("--run", o.run, "Run id")->required()->check(CLI::PositiveNumber);
    cmd->add_option("--user", o.user, "The user's id as the dataset writes it (e.g. 196 in ml-100k)")->required();
    cmd->add_option("--k", o.k, "How many items")->check(CLI::Range(1, 1000))->capture_default_str();
    cmd->add_option("--db", o.db, "Experiment database (default: " + defaultDatabasePath() + ")");
    cmd->add_option("--data", o.data, "The run's dataset (default: where the run read it)");
    cmd->add_flag("--json", o.json, "Print JSON");
}

int runRecommend(const RecommendCliOptions& o)
{
    const std::string dbPath = o.db.empty() ? defaultDatabasePath() : o.db;
    RunRecord run;
    try {
        run = storedRun(dbPath, o.run);
    } catch (const StoreError& e) {
        std::cerr << "reclab-cli: " << e.what() << std::endl;
        return 1;
    }
    std::shared_ptr<const Dataset> data;
    std::shared_ptr<Recommender> model;
    int32_t user = -1;
    RecommendOptions options;
    options.k = o.k;
    try {
        data = std::make_shared<const Dataset>(runDataset(run, o.data));
        for (int32_t u = 0; u < data->numUsers(); ++u)
            if (data->userIds[static_cast<size_t>(u)] == o.user)
                user = u;
        if (user < 0)
            throw Error(data->name + " has no user " + o.user);
        TrainConfig config = TrainingSession::storedConfig(dbPath, run.id);
        config.device = "cpu";
        options.historyLength = config.historyLength;
        // The weights the run ended with: its best epoch's when it validated, else its last.
        const std::filesystem::path dir(runArtifactDir(dbPath, run.id));
        const std::string checkpoint = std::filesystem::exists(dir / "best.pt")   ? (dir / "best.pt").string()
                                       : std::filesystem::exists(dir / "last.pt") ? (dir / "last.pt").string()
                                                                                  : std::string();
        Trainer trainer(data, config);
        if (checkpoint.empty() && config.model != "graph" && findModel(config.model)->trainable)
            throw Error("run " + std::to_string(run.id) + " has no checkpoint: it stopped before its first epoch ended");
        model = trainer.loadModel(checkpoint);
    } catch (const Error& e) {
        std::cerr << "reclab-cli: " << e.what() << std::endl;
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "reclab-cli: run " << run.id << ": " << e.what() << std::endl;
        return 1;
    }
    const InteractionIndex index(*data);
    recommend(*model, index, user, options); // the first call pays LibTorch's one-time set-up
    const auto start = std::chrono::steady_clock::now();
    const std::vector<Recommendation> recs = recommend(*model, index, user, options);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    auto title = [&](int32_t item) {
        const auto at = static_cast<size_t>(item);
        return at < data->items.title.size() && !data->items.title[at].empty() ? data->items.title[at] : data->itemIds[at];
    };
    if (o.json) {
        nlohmann::json items = nlohmann::json::array();
        for (const auto& r : recs) {
            nlohmann::json because = nlohmann::json::array();
            for (const auto& [item, similarity] : r.because)
                because.push_back({{"item", data->itemIds[static_cast<size_t>(item)]}, {"title", title(item)}, {"similarity", similarity}});
            items.push_back({{"item", data->itemIds[static_cast<size_t>(r.item)]},
                             {"title", title(r.item)},
                             {"genres", data->genresOf(r.item)},
                             {"score", r.score},
                             {"because", because}});
        }
        std::cout << nlohmann::json{{"run", run.id}, {"user", o.user}, {"milliseconds", ms}, {"items", items}}.dump(2)
                  << std::endl;
        return 0;
    }
    std::printf("Top %zu for user %s from run %lld (%s), seen items left out (%.1f ms)\n", recs.size(), o.user.c_str(),
                static_cast<long long>(run.id), run.model.c_str(), ms);
    int rank = 0;
    for (const auto& r : recs) {
        std::printf("%3d. %-50s %9.4f", ++rank, title(r.item).c_str(), r.score);
        if (!r.because.empty()) {
            std::printf("  because you liked ");
            for (size_t k = 0; k < r.because.size(); ++k)
                std::printf("%s%s", k ? "; " : "", title(r.because[k].first).c_str());
        }
        std::printf("\n");
    }
    return 0;
}

} // namespace reclab::cli
