#include "WordsCommand.h"
#include "Commands.h"

#include "OptionChecks.h"
#include "compiled/GraphModule.h"
#include "compiled/GraphText.h"
#include "inspection/StoredRun.h"
#include "store/ExperimentStore.h"
#include "util/Error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace reclab::cli {

void addWordsCommand(CLI::App& app, WordsCliOptions& o)
{
    auto* cmd = addCommand(app, "words");
    cmd->add_option("--run", o.run, "Run id of a model with a word embedding (hybrid, deepconn, a text graph)")
        ->required()
        ->check(wholeNumberIn(1, 9.2e18L));
    cmd->add_option("--near", o.near, "List the words nearest to this one (cosine)");
    cmd->add_option("-k", o.k, "How many nearest words")->capture_default_str()->check(CLI::Range(1, 1000));
    cmd->add_option("--out", o.out, "Write the run's word vectors here (word2vec text)");
    cmd->add_option("--db", o.db, "Experiment database (default: " + defaultDatabasePath() + ")");
    cmd->add_option("--data", o.data, "The run's dataset (default: where the run read it)");
    cmd->add_flag("--json", o.json, "Print JSON");
}

int runWords(const WordsCliOptions& o)
{
    if (o.near.empty() && o.out.empty())
        throw ConfigError("near", "give --near WORD, --out FILE or both");
    const StoredModel stored = loadStoredModel(o.db.empty() ? defaultDatabasePath() : o.db, o.run, nullptr, o.data);
    const auto* graph = dynamic_cast<const GraphModelImpl*>(stored.model.get());
    if (!graph)
        throw ConfigError("run", "run " + std::to_string(o.run) + " (" + stored.run.model +
                                     ") is not a graph model, so it learned no word vectors");
    const WordVectors vectors = graphWordVectors(*graph);
    if (!o.out.empty())
        writeWordVectors(vectors, o.out);
    if (o.near.empty()) {
        std::printf("Wrote %zu words × %d dimensions of run %lld to %s\n", vectors.size(), vectors.dim,
                    static_cast<long long>(o.run), o.out.c_str());
        return 0;
    }
    if (!vectors.find(o.near))
        throw ConfigError("near", "'" + o.near + "' is not in run " + std::to_string(o.run) + "'s vocabulary of " +
                                      std::to_string(vectors.size()) + " words");
    const auto near = nearestWords(vectors, o.near, o.k);
    if (o.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& [word, cosine] : near)
            list.push_back({{"word", word}, {"cosine", cosine}});
        std::cout << nlohmann::json{{"run", o.run}, {"word", o.near}, {"nearest", list}}.dump(2) << std::endl;
        return 0;
    }
    std::printf("Nearest to '%s' in run %lld (%s, %zu words):\n", o.near.c_str(), static_cast<long long>(o.run),
                stored.run.model.c_str(), vectors.size());
    for (const auto& [word, cosine] : near)
        std::printf("  %-24s %.3f\n", word.c_str(), cosine);
    return 0;
}

} // namespace reclab::cli
