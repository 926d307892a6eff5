// reclab-cli: the command-line face of RecLab, driving the same core objects as the GUI.
// Built twice: reclab-cli (RECLAB_CLI_FRONT, no LibTorch: `data` runs here, `train` execs
// reclab-train) and reclab-train (everything, LibTorch linked).
#include "CliErrors.h"
#include "Commands.h"
#include "DataCommand.h"
#include "GraphCommand.h"
#include "RunsCommand.h"
#include "util/Files.h"
#ifndef RECLAB_CLI_FRONT
#include "BenchCommand.h"
#include "ExportCommand.h"
#include "RecommendCommand.h"
#include "BlendCommand.h"
#include "ReplayCommand.h"
#include "BanditCommand.h"
#include "WordsCommand.h"
#include "AttentionCommand.h"
#include "TrainCommand.h"
#include "util/Runtime.h"
#endif

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>

#include <limits.h>
#include <unistd.h>

namespace {

#ifdef RECLAB_CLI_FRONT
// The first word that is not an option (the subcommand), and the one after it.
std::string subcommandOf(int argc, char** argv, int skip = 0)
{
    for (int i = 1; i < argc; ++i)
        if (argv[i][0] != '-' && skip-- == 0)
            return argv[i];
    return {};
}

// Replaces this process with reclab-train from the same folder, arguments unchanged (for the
// commands that need LibTorch: train and bench).
int execTrain(char** argv)
{
    std::string dir = reclab::executablePath(argv[0]);
    dir = dir.substr(0, dir.rfind('/') + 1);
    const std::string train = dir + "reclab-train";
    ::execv(train.c_str(), argv);
    std::cerr << "reclab-cli: training needs " << train << ": " << std::strerror(errno) << std::endl;
    return 2;
}
#endif

} // namespace

int main(int argc, char** argv)
{
#ifdef RECLAB_CLI_FRONT
    if (reclab::cli::runsInTrainer(subcommandOf(argc, argv), subcommandOf(argc, argv, 1)))
        return execTrain(argv);
#else
    reclab::configureRuntime();
#endif
    CLI::App app{"RecLab command line: train recommender models and record every run"};
    app.require_subcommand(1);
    app.footer("Run 'reclab-cli train --help', 'reclab-cli data --help', 'reclab-cli graph --help' or 'reclab-cli runs --help' for the options.");
#ifdef RECLAB_CLI_FRONT
    reclab::cli::addTorchPlaceholders(app);
#else
    reclab::cli::TrainOptions train;
    reclab::cli::addTrainCommand(app, train);
    reclab::cli::BenchCliOptions bench;
    reclab::cli::addBenchCommand(app, bench);
    reclab::cli::ExportOptions exportOptions;
    reclab::cli::addExportCommand(app, exportOptions);
    reclab::cli::RecommendCliOptions recommendOptions;
    reclab::cli::addRecommendCommand(app, recommendOptions);
    reclab::cli::AttentionCliOptions attentionOptions;
    reclab::cli::addAttentionCommand(app, attentionOptions);
    reclab::cli::WordsCliOptions wordsOptions;
    reclab::cli::addWordsCommand(app, wordsOptions);
    reclab::cli::BlendCliOptions blendOptions;
    reclab::cli::addBlendCommand(app, blendOptions);
    reclab::cli::ReplayCliOptions replayOptions;
    reclab::cli::addReplayCommand(app, replayOptions);
    reclab::cli::BanditCliOptions banditOptions;
    reclab::cli::addBanditCommand(app, banditOptions);
#endif
    reclab::cli::DataOptions data;
    reclab::cli::addDataCommand(app, data);
    reclab::cli::GraphOptions graph;
    reclab::cli::addGraphCommand(app, graph);
    reclab::cli::RunsOptions runs;
    reclab::cli::addRunsCommand(app, runs);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0)
            return app.exit(e); // --help
        std::cerr << "reclab-cli: " << reclab::cli::oneLine(e.what()) << std::endl;
        return 2;
    }
    try {
#ifndef RECLAB_CLI_FRONT
        if (app.got_subcommand("train"))
            return reclab::cli::runTrain(train);
        if (app.got_subcommand("export"))
            return reclab::cli::runExport(exportOptions);
        if (app.got_subcommand("recommend"))
            return reclab::cli::runRecommend(recommendOptions);
        if (app.got_subcommand("attention"))
            return reclab::cli::runAttention(attentionOptions);
        if (app.got_subcommand("words"))
            return reclab::cli::runWords(wordsOptions);
        if (app.got_subcommand("blend"))
            return reclab::cli::runBlend(blendOptions);
        if (app.got_subcommand("replay"))
            return reclab::cli::runReplay(replayOptions);
        if (app.got_subcommand("bandit"))
            return reclab::cli::runBanditCommand(banditOptions);
        if (app.got_subcommand("bench")) {
            const auto* b = app.get_subcommand("bench");
            if (b->got_subcommand("ranking"))
                return reclab::cli::runRankingBench(bench);
            return b->got_subcommand("speed") ? reclab::cli::runSpeedBench(bench) : reclab::cli::runBench(bench);
        }
#endif
        if (app.got_subcommand("runs"))
            return reclab::cli::runRuns(*app.get_subcommand("runs"), runs);
        if (app.got_subcommand("data"))
            return reclab::cli::runData(*app.get_subcommand("data"), data);
#ifndef RECLAB_CLI_FRONT
        if (app.got_subcommand("graph") && app.get_subcommand("graph")->got_subcommand("export"))
            return reclab::cli::runGraphExport(graph);
#endif
        if (app.got_subcommand("graph"))
            return reclab::cli::runGraph(*app.get_subcommand("graph"), graph);
    } catch (const std::exception& e) {
        return reclab::cli::reportFailure(e);
    }
    return 2;
}
