// reclab-cli: the command-line face of RecLab, driving the same core objects as the GUI.
#include "DataCommand.h"
#include "TrainCommand.h"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv)
{
    CLI::App app{"RecLab command line: train recommender models and record every run"};
    app.require_subcommand(1);
    app.footer("Run 'reclab-cli train --help' or 'reclab-cli data --help' for the options.");
    reclab::cli::TrainOptions train;
    reclab::cli::addTrainCommand(app, train);
    reclab::cli::DataOptions data;
    reclab::cli::addDataCommand(app, data);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0)
            return app.exit(e); // --help
        std::cerr << "reclab-cli: " << e.what() << std::endl;
        return 2;
    }
    try {
        if (app.got_subcommand("train"))
            return reclab::cli::runTrain(train);
        if (app.got_subcommand("data"))
            return reclab::cli::runData(*app.get_subcommand("data"), data);
    } catch (const std::exception& e) {
        std::cerr << "reclab-cli: " << e.what() << std::endl;
        return 1;
    }
    return 2;
}
