// The top-level commands of reclab-cli: one row each with its one-line help, and whether it needs
// LibTorch (then the front, reclab-cli, replaces itself with reclab-train to run it). The front
// lists those commands from this table for --help; every add*Command takes its line from here.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace reclab::cli {

struct CommandInfo {
    const char* name;
    const char* description;
    bool needsTorch;
    bool hasSubcommands; // a group: one of its subcommands must follow
};

const CommandInfo* commandInfo(const std::string& name);
// Adds the command `name` of the table to app, with its description (and, for a group, the rule
// that one subcommand must follow).
CLI::App* addCommand(CLI::App& app, const std::string& name);
// The front's placeholders for the commands it hands to reclab-train, so its --help lists them.
void addTorchPlaceholders(CLI::App& app);
// Whether `command` (and its `subcommand`) run in reclab-train: the torch commands, and
// `graph export`, which writes TorchScript.
bool runsInTrainer(const std::string& command, const std::string& subcommand);

} // namespace reclab::cli
