#include "Commands.h"

#include <stdexcept>

namespace reclab::cli {

namespace {

const CommandInfo kCommands[] = {
    {"train", "Train a model on a dataset and record the run in the experiment database", true, false},
    {"bench", "Benchmarks that compare models", true, true},
    {"export", "Export what a run learned (embeddings)", true, true},
    {"recommend", "A stored run's top-K items for one user, seen items left out, with why", true, false},
    {"attention", "A DIN run's attention over one user's behaviours for candidate items", true, false},
    {"blend", "Blend two stored runs of one split into a run of its own, the weight chosen on validation", true, false},
    {"replay", "Replay the data's last days: a model updated after each day against one retrained from scratch", true, false},
    {"bandit", "Ranking policies (bandits, LinUCB, REINFORCE) on the replay of the log or a simulator built from a run", true, false},
    {"words", "The word vectors a text run ended with: a word's nearest words, or the vectors as a file", true, false},
    {"data", "Inspect, prepare and download datasets", false, true},
    {"graph", "Check model graphs, copy the shipped templates, export trained graphs", false, true},
    {"runs", "List, show, export and compare the recorded runs", false, true},
};

} // namespace

const CommandInfo* commandInfo(const std::string& name)
{
    for (const CommandInfo& c : kCommands)
        if (name == c.name)
            return &c;
    return nullptr;
}

CLI::App* addCommand(CLI::App& app, const std::string& name)
{
    const CommandInfo* info = commandInfo(name);
    if (!info)
        throw std::logic_error("no command '" + name + "' in the command table");
    CLI::App* cmd = app.add_subcommand(info->name, info->description);
    if (info->hasSubcommands)
        cmd->require_subcommand(1);
    return cmd;
}

void addTorchPlaceholders(CLI::App& app)
{
    for (const CommandInfo& c : kCommands)
        if (c.needsTorch)
            app.add_subcommand(c.name, c.description);
}

bool runsInTrainer(const std::string& command, const std::string& subcommand)
{
    const CommandInfo* info = commandInfo(command);
    return info && (info->needsTorch || (command == "graph" && subcommand == "export"));
}

} // namespace reclab::cli
