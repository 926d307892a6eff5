#include "AttentionCommand.h"
#include "Commands.h"
#include "CliErrors.h"
#include "RecommendCommand.h"

#include "inspection/Attention.h"
#include "util/Error.h"
#include "util/Words.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace reclab::cli {

void addAttentionCommand(CLI::App& app, AttentionCliOptions& o)
{
    auto* cmd = addCommand(app, "attention");
    addInspectionOptions(cmd, o);
    cmd->add_option("--items", o.items, "Candidate item ids, comma-separated (e.g. 50,181): DIN weighs behaviours per candidate; "
                                        "SASRec and seq2seq runs need none")
        ->delimiter(',');
    cmd->add_option("--top", o.top, "Contributors marked per candidate (per row of a sequence model's map)")
        ->check(CLI::Range(1, 50))
        ->capture_default_str();
}

namespace {

// A sequence model's maps: each row (a behaviour attending, or a decoder step) with the
// behaviours it attends to most.
int printSequenceMaps(const AttentionCliOptions& o, const Inspected& in, const SequenceAttentionMaps& m)
{
    const Dataset& data = *in.stored.data;
    const auto label = [&](const SequenceMap& map, int64_t row) {
        return map.label == "decoder" ? "step " + std::to_string(row + 1)
                                      : itemTitle(data, m.history[static_cast<size_t>(row)]);
    };
    if (o.json) {
        nlohmann::json history = nlohmann::json::array(), maps = nlohmann::json::array();
        for (const int32_t item : m.history)
            history.push_back({{"item", data.itemIds[static_cast<size_t>(item)]}, {"title", itemTitle(data, item)}});
        for (const auto& map : m.maps) {
            nlohmann::json rows = nlohmann::json::array();
            for (int64_t r = 0; r < map.weights.size(0); ++r) {
                const auto w = map.weights[r].contiguous();
                rows.push_back(std::vector<float>(w.data_ptr<float>(), w.data_ptr<float>() + w.numel()));
            }
            maps.push_back({{"block", map.block}, {"label", map.label}, {"weights", rows}});
        }
        std::cout << nlohmann::json{{"run", in.stored.run.id}, {"user", o.user}, {"history", history}, {"maps", maps}}.dump(2)
                  << std::endl;
        return 0;
    }
    std::printf("Attention inside run %lld (%s) for user %s: %zu behaviours, oldest first; each row's top %d\n",
                static_cast<long long>(in.stored.run.id), in.stored.run.model.c_str(), o.user.c_str(), m.history.size(), o.top);
    for (const auto& map : m.maps) {
        std::printf("\n%s, %s\n", map.block.c_str(), map.label.c_str());
        const int64_t top = std::min<int64_t>(o.top, map.weights.size(1));
        const auto [best, which] = map.weights.topk(top, 1);
        for (int64_t r = 0; r < map.weights.size(0); ++r) {
            std::printf("  %-40.40s ->", label(map, r).c_str());
            for (int64_t k = 0; k < top; ++k)
                std::printf("%s %s (%.3f)", k ? ";" : "",
                            itemTitle(data, m.history[static_cast<size_t>(which[r][k].item<int64_t>())]).c_str(), best[r][k].item<double>());
            std::printf("\n");
        }
    }
    return 0;
}

} // namespace

int runAttention(const AttentionCliOptions& o)
{
    Inspected in;
    if (const int code = loadForInspection(o, in))
        return code;
    const int32_t user = in.user;
    const Dataset& data = *in.stored.data;
    const auto* graph = dynamic_cast<const GraphModelImpl*>(in.stored.model.get());
    if (!graph || !graph->analysis().weighsBehaviours) { // no candidate-dependent unit: the sequence's own attention
        try {
            return printSequenceMaps(o, in, sequenceAttention(*in.stored.model, InteractionIndex(data), user,
                                                              in.stored.config.historyLength));
        } catch (const std::exception& e) {
            return reportFailure(e, "run " + std::to_string(o.run) + ": ");
        }
    }
    if (o.items.empty())
        return reportFailure(Error("name candidate items with --items: DIN weighs the behaviours for each candidate"),
                             "run " + std::to_string(o.run) + ": ");
    AttentionMap map;
    try {
        std::vector<int32_t> candidates;
        for (const auto& id : o.items)
            candidates.push_back(itemIndexOf(data, id));
        map = attentionMap(*in.stored.model, InteractionIndex(data), user, candidates, in.stored.config.historyLength);
    } catch (const std::exception& e) {
        return reportFailure(e, "run " + std::to_string(o.run) + ": ");
    }
    const auto rows = static_cast<int64_t>(map.history.size());
    const auto top = std::min<int64_t>(o.top, rows);
    const torch::Tensor strongest = std::get<1>(map.weights.topk(top, 1));
    if (o.json) {
        nlohmann::json history = nlohmann::json::array(), candidates = nlohmann::json::array();
        for (const int32_t item : map.history)
            history.push_back({{"item", data.itemIds[static_cast<size_t>(item)]}, {"title", itemTitle(data, item)},
                               {"genres", data.genresOf(item)}});
        for (size_t c = 0; c < map.candidates.size(); ++c) {
            const auto row = static_cast<int64_t>(c);
            std::vector<double> weights, shares;
            std::vector<int64_t> contributors;
            for (int64_t h = 0; h < rows; ++h) {
                weights.push_back(map.weights[row][h].item<double>());
                shares.push_back(map.shares[row][h].item<double>());
            }
            for (int64_t k = 0; k < top; ++k)
                contributors.push_back(strongest[row][k].item<int64_t>());
            const int32_t item = map.candidates[c];
            candidates.push_back({{"item", data.itemIds[static_cast<size_t>(item)]}, {"title", itemTitle(data, item)},
                                  {"genres", data.genresOf(item)}, {"score", map.scores[c]}, {"weights", weights},
                                  {"shares", shares}, {"top", contributors}});
        }
        std::cout << nlohmann::json{{"run", in.stored.run.id}, {"user", o.user}, {"history", history}, {"candidates", candidates}}.dump(2)
                  << std::endl;
        return 0;
    }
    std::printf("Attention of run %lld (%s) for user %s: %lld behaviours, oldest first; raw weights, * = top %lld\n",
                static_cast<long long>(in.stored.run.id), in.stored.run.model.c_str(), o.user.c_str(),
                static_cast<long long>(rows), static_cast<long long>(top));
    std::printf("%-44s %-18s", "candidate", "");
    for (size_t c = 0; c < map.candidates.size(); ++c)
        std::printf(" %10s", data.itemIds[static_cast<size_t>(map.candidates[c])].c_str());
    std::printf("\n%-44s %-18s", "score (logit)", "");
    for (const double s : map.scores)
        std::printf(" %10.4f", s);
    std::printf("\n");
    for (int64_t h = 0; h < rows; ++h) {
        const int32_t item = map.history[static_cast<size_t>(h)];
        std::printf("%-44.44s %-18.18s", itemTitle(data, item).c_str(), joinWith(data.genresOf(item), "|").c_str());
        for (size_t c = 0; c < map.candidates.size(); ++c) {
            bool marked = false;
            for (int64_t k = 0; k < top; ++k)
                marked = marked || strongest[static_cast<int64_t>(c)][k].item<int64_t>() == h;
            std::printf(" %9.4f%c", map.weights[static_cast<int64_t>(c)][h].item<double>(), marked ? '*' : ' ');
        }
        std::printf("\n");
    }
    for (size_t c = 0; c < map.candidates.size(); ++c)
        std::printf("%s: %s (%s)\n", data.itemIds[static_cast<size_t>(map.candidates[c])].c_str(),
                    itemTitle(data, map.candidates[c]).c_str(), joinWith(data.genresOf(map.candidates[c]), "|").c_str());
    return 0;
}

} // namespace reclab::cli
