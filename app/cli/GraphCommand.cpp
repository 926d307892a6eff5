#include "GraphCommand.h"
#include "Commands.h"

#include "CliErrors.h"
#include "data/DatasetSource.h"
#include "graph/GraphAnalysis.h"
#include "graph/GraphTemplates.h"
#include "util/Error.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

namespace reclab::cli {

namespace {

const char* taskText(TaskKind task)
{
    switch (task) {
    case TaskKind::ImplicitRanking: return "implicit ranking (protocols loo, full)";
    case TaskKind::RatingPrediction: return "rating prediction (protocols holdout, folds)";
    case TaskKind::ClickThrough: return "click-through with behaviour histories (protocol din)";
    }
    return "?";
}

nlohmann::json analysisJson(const GraphSpec& g, const GraphAnalysis& a)
{
    nlohmann::json blocks = nlohmann::json::array();
    for (const auto& id : a.order) {
        const BlockAnalysis* b = a.block(id);
        nlohmann::json entry{{"id", id}, {"type", b->type}, {"parameters", b->parameters}};
        entry["output"] = b->output ? nlohmann::json(b->output->text()) : nlohmann::json();
        blocks.push_back(entry);
    }
    nlohmann::json issues = nlohmann::json::array();
    for (const auto& i : a.issues)
        issues.push_back({{"block", i.node}, {"port", i.port}, {"message", i.message}, {"text", i.text()}});
    nlohmann::json out{{"graph", g.name}, {"valid", a.ok()}, {"blocks", blocks}, {"total_parameters", a.totalParameters},
                       {"issues", issues}};
    if (a.ok())
        out["task"] = taskText(a.task);
    return out;
}

int runCheck(const GraphOptions& o)
{
    GraphSpec graph;
    GraphContext context;
    std::string dataName;
    try {
        graph = GraphSpec::load(o.file);
        const Dataset ds = loadDataset(o.data);
        context = graphContextOf(ds);
        dataName = ds.name;
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
    const GraphAnalysis a = analyseGraph(graph, context);
    if (o.json) {
        auto out = analysisJson(graph, a);
        out["dataset"] = {{"name", dataName}, {"users", context.numUsers}, {"items", context.numItems},
                          {"categories", context.numGenres}};
        std::cout << out.dump(2) << std::endl;
    } else {
        std::cout << "graph '" << graph.name << "' (" << o.file << ") against " << dataName << " ("
                  << formatCount(context.numUsers) << " users, " << formatCount(context.numItems) << " items, "
                  << context.numGenres << " categories)\n"
                  << a.report();
        if (a.ok())
            std::cout << "task: " << taskText(a.task) << "\nvalid\n";
    }
    if (a.ok())
        return 0;
    std::cerr << "reclab-cli: " << o.file << ": " << a.issues.size() << (a.issues.size() == 1 ? " problem" : " problems")
              << ", the first: " << a.issues.front().text() << std::endl;
    return 1;
}

int runTemplate(const GraphOptions& o)
{
    try {
        const std::string text = graphTemplateText(o.name);
        if (o.out.empty()) {
            std::cout << text;
            return 0;
        }
        graphTemplate(o.name).save(o.out);
        std::cout << "wrote " << o.out << std::endl;
        return 0;
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
}

} // namespace

void addGraphCommand(CLI::App& app, GraphOptions& o)
{
    auto* graph = addCommand(app, "graph");
    auto* check = graph->add_subcommand(
        "check", "Print a graph's blocks with their output shapes and parameter counts, and every problem");
    check->add_option("file", o.file, "Graph file (JSON)")->required();
    check->add_option("--data", o.data, "Dataset whose sizes the tables take (default: the bundled sample)");
    check->add_flag("--json", o.json, "Print the analysis as JSON");
    check->footer("Exit codes: 0 valid, 1 the graph has problems, 2 unreadable file or dataset.");
    std::string names;
    for (const auto& n : graphTemplateNames())
        names += (names.empty() ? "" : ", ") + n;
    auto* templ = graph->add_subcommand("template", "Print a shipped graph template, or write it to a file to edit");
    templ->add_option("name", o.name, "Template: " + names)->required();
    templ->add_option("--out", o.out, "Write the template here instead of printing it");
    auto* exp = graph->add_subcommand("export", "Export a trained graph run as a TorchScript module (.pt)");
    exp->add_option("--run", o.run, "Run id")->required();
    exp->add_option("--out", o.out, "Output file, e.g. model.pt")->required();
    exp->add_option("--db", o.db, "Experiment database (default: the user's)");
}

int runGraph(CLI::App& graph, const GraphOptions& o)
{
    if (graph.got_subcommand("check"))
        return runCheck(o);
    if (graph.got_subcommand("template"))
        return runTemplate(o);
    return 2; // export: main() runs it where LibTorch is linked

}

} // namespace reclab::cli
