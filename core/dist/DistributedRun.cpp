#include "dist/DistributedRun.h"

#include "data/Dataset.h"
#include "dist/LocalRanks.h"
#include "dist/RankGroup.h"
#include "util/Error.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>

namespace reclab {

namespace {

std::string readyKey(int rank)
{
    return "ready/" + std::to_string(rank);
}

} // namespace

std::string trainingProgramBeside(const std::string& executable)
{
    if (const char* program = std::getenv("RECLAB_TRAIN_PROGRAM"); program && *program)
        return program;
    return (std::filesystem::path(executable).parent_path() / "reclab-train").string();
}

RankHost::RankHost(const World& world, const TrainConfig& config, const Dataset& data,
                   const std::optional<LocalLaunch>& launch)
    : world_(world)
{
    if (launch)
        local_ = std::make_shared<LocalRanks>(launch->program, launch->args, world);
    try {
        const std::weak_ptr<LocalRanks> local = local_;
        group_ = std::make_shared<RankGroup>(world, [local]() {
            const auto ranks = local.lock();
            return ranks ? ranks->failures(0) : std::string();
        });
        group_->publish(
            "job",
            nlohmann::json{{"config", config.toJson()}, {"data", data.fingerprint()}, {"name", data.name}}.dump());
        // Each rank says whether it can train this: the same data, a configuration it reads.
        for (int rank = 1; rank < world.size; ++rank)
            if (const std::string answer = group_->fetch(readyKey(rank)); answer != "ok")
                throw Error("rank " + std::to_string(rank) + " of " + std::to_string(world.size) + ": " + answer);
        group_->connect(config.device != "cpu");
    } catch (const std::exception& e) {
        std::string message = e.what();
        if (local_)
            if (const std::string failed = local_->failures();
                !failed.empty() && message.find(failed) == std::string::npos)
                message += " (" + failed + ")";
        throw Error(message);
    }
}

RankHost::~RankHost() = default;

std::string RankHost::failures()
{
    return local_ ? local_->failures() : std::string();
}

std::string RankHost::finish(double seconds)
{
    return local_ ? local_->finish(seconds < 0 ? world_.timeoutSeconds : seconds) : std::string();
}

std::vector<pid_t> RankHost::localPids() const
{
    return local_ ? local_->pids() : std::vector<pid_t>{};
}

JoinedRank joinRankZero(const World& world, const Dataset& data)
{
    JoinedRank joined;
    joined.group = std::make_shared<RankGroup>(world);
    const auto job = nlohmann::json::parse(joined.group->fetch("job"));
    std::string problem;
    try {
        if (const std::string expected = job.at("data").get<std::string>(); expected != data.fingerprint())
            problem = "its data is not rank 0's: " + data.name + " (fingerprint " + data.fingerprint() +
                      ") where rank 0 has " + job.at("name").get<std::string>() + " (" + expected +
                      "); give every rank the same --data";
        else
            joined.config = TrainConfig::fromJson(job.at("config"));
    } catch (const std::exception& e) {
        problem = std::string("cannot read rank 0's configuration: ") + e.what();
    }
    joined.group->publish(readyKey(world.rank), problem.empty() ? "ok" : problem);
    if (!problem.empty())
        throw Error(world.describe() + ": " + problem);
    joined.group->connect(joined.config.device != "cpu");
    return joined;
}

} // namespace reclab
