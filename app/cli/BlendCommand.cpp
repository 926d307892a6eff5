#include "BlendCommand.h"
#include "Commands.h"

#include "inspection/Blend.h"
#include "store/ExperimentStore.h"
#include "util/Error.h"
#include "util/TextFile.h"
#include "util/Words.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace reclab::cli {

namespace {

std::vector<double> numberList(const std::string& text, const char* option)
{
    std::vector<std::string_view> parts;
    splitFields(text, ",", parts);
    std::vector<double> out;
    for (const auto part : parts) {
        const std::string s(part);
        size_t used = 0;
        double v = 0;
        try {
            v = std::stod(s, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != s.size())
            throw ConfigError(option, "'" + s + "' is not a number");
        out.push_back(v);
    }
    return out;
}

} // namespace

void addBlendCommand(CLI::App& app, BlendCliOptions& o)
{
    auto* cmd = addCommand(app, "blend");
    cmd->add_option("--runs", o.runs, "The two run ids, A,B: the blend is w A + (1 - w) B")->required();
    cmd->add_option("--weights", o.weights, "The weights of A to try on the validation part (default 0,0.1,...,1)");
    cmd->add_option("--db", o.db, "Experiment database (default: " + defaultDatabasePath() + ")");
    cmd->add_option("--data", o.data, "The runs' dataset (default: where the first run read it)");
    cmd->add_flag("--json", o.json, "Print JSON");
}

int runBlend(const BlendCliOptions& o)
{
    const std::vector<double> ids = numberList(o.runs, "runs");
    if (ids.size() != 2 || ids[0] != static_cast<double>(static_cast<int64_t>(ids[0])) ||
        ids[1] != static_cast<double>(static_cast<int64_t>(ids[1])) || ids[0] < 1 || ids[1] < 1)
        throw ConfigError("runs", "expected two run ids, such as 3,4");
    const std::string db = o.db.empty() ? defaultDatabasePath() : o.db;
    const BlendResult r = blendRuns(db, static_cast<int64_t>(ids[0]), static_cast<int64_t>(ids[1]),
                                    o.weights.empty() ? defaultBlendWeights() : numberList(o.weights, "weights"), o.data);
    if (o.json) {
        nlohmann::json curve = nlohmann::json::array(), test = nlohmann::json::object();
        for (const auto& [w, v] : r.validation)
            curve.push_back({{"weight", w}, {"val_" + r.validationKey, v}});
        for (const auto& m : r.test)
            test[m.name] = m.value;
        std::cout << nlohmann::json{{"run_id", r.runId}, {"weight", r.weight}, {"validation", curve}, {"metrics", test}}.dump()
                  << std::endl;
        return 0;
    }
    std::printf("Weight of run %lld chosen on val_%s:", static_cast<long long>(ids[0]), r.validationKey.c_str());
    for (const auto& [w, v] : r.validation)
        std::printf(" %s→%s", shortNumber(w).c_str(), formatMetric(v).c_str());
    std::printf("\nblend run %lld: weight %s;", static_cast<long long>(r.runId), shortNumber(r.weight).c_str());
    for (const auto& m : r.test)
        std::printf(" %s %s", m.name.c_str(), formatMetric(m.value).c_str());
    std::printf(" (%s)\n", db.c_str());
    return 0;
}

} // namespace reclab::cli
