#include "train/Checkpoint.h"

#include "train/FlatOptimizer.h"
#include "util/Error.h"

#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <system_error>

namespace reclab {

namespace {

constexpr int64_t kCheckpointVersion = 1;

// Parameters then buffers, in registration order (the order save and load agree on).
std::vector<torch::Tensor> stateOf(const torch::nn::Module& model)
{
    std::vector<torch::Tensor> tensors = model.parameters();
    for (const auto& b : model.buffers())
        tensors.push_back(b);
    return tensors;
}

} // namespace

void writeCheckpoint(const std::string& path, const torch::nn::Module& model, const FlatOptimizer& optimizer,
                     const TrainingProgress& progress)
{
    torch::serialize::OutputArchive archive;
    archive.write("version", c10::IValue(kCheckpointVersion));
    archive.write("progress.epoch", c10::IValue(static_cast<int64_t>(progress.epoch)));
    archive.write("progress.step", c10::IValue(progress.step));
    archive.write("progress.rng", c10::IValue(progress.rng));
    archive.write("progress.best_epoch", c10::IValue(static_cast<int64_t>(progress.bestEpoch)));
    archive.write("progress.best_step", c10::IValue(progress.bestStep));
    archive.write("progress.best_value", c10::IValue(progress.bestValue));
    archive.write("progress.bad_epochs", c10::IValue(static_cast<int64_t>(progress.epochsWithoutImprovement)));
    torch::serialize::OutputArchive modelArchive;
    model.save(modelArchive);
    archive.write("model", modelArchive);
    torch::serialize::OutputArchive optimizerArchive;
    optimizer.save(optimizerArchive);
    archive.write("optimizer", optimizerArchive);

    const std::filesystem::path target(path);
    const std::filesystem::path temporary = target.string() + ".part";
    std::error_code ec;
    std::filesystem::create_directories(target.parent_path(), ec);
    try {
        archive.save_to(temporary.string());
    } catch (const c10::Error& e) {
        throw Error("cannot write the checkpoint " + path + ": " + e.what_without_backtrace());
    }
    std::filesystem::rename(temporary, target, ec);
    if (ec)
        throw Error("cannot write the checkpoint " + path + ": " + ec.message());
}

void copyCheckpoint(const std::string& from, const std::string& to)
{
    const std::filesystem::path temporary = to + ".part";
    std::error_code ec;
    std::filesystem::copy_file(from, temporary, std::filesystem::copy_options::overwrite_existing, ec);
    if (!ec)
        std::filesystem::rename(temporary, to, ec);
    if (ec)
        throw Error("cannot write the checkpoint " + to + ": " + ec.message());
}

CheckpointReader::CheckpointReader(const std::string& path) : path_(path)
{
    try {
        archive_.load_from(path, torch::Device(torch::kCPU)); // moved to the model's device on restore
        c10::IValue version, epoch, step, rng, bestEpoch, bestStep, bestValue, bad;
        archive_.read("version", version);
        if (version.toInt() != kCheckpointVersion)
            throw Error("the checkpoint " + path + " has version " + std::to_string(version.toInt()) +
                        "; this RecLab reads version " + std::to_string(kCheckpointVersion));
        archive_.read("progress.epoch", epoch);
        archive_.read("progress.step", step);
        archive_.read("progress.rng", rng);
        archive_.read("progress.best_epoch", bestEpoch);
        archive_.read("progress.best_step", bestStep);
        archive_.read("progress.best_value", bestValue);
        archive_.read("progress.bad_epochs", bad);
        progress_.epoch = static_cast<int>(epoch.toInt());
        progress_.step = step.toInt();
        progress_.rng = rng.toStringRef();
        progress_.bestEpoch = static_cast<int>(bestEpoch.toInt());
        progress_.bestStep = bestStep.toInt();
        progress_.bestValue = bestValue.toDouble();
        progress_.epochsWithoutImprovement = static_cast<int>(bad.toInt());
    } catch (const c10::Error& e) {
        throw Error("cannot read the checkpoint " + path + ": " + e.what_without_backtrace());
    }
}

void CheckpointReader::restoreModel(torch::nn::Module& model)
{
    try {
        torch::serialize::InputArchive modelArchive;
        archive_.read("model", modelArchive);
        // The archive holds tensors on the device they were saved from; the model may be elsewhere.
        const auto before = stateOf(model);
        const torch::Device device = before.empty() ? torch::Device(torch::kCPU) : before.front().device();
        std::vector<std::vector<int64_t>> shapes;
        for (const auto& t : before)
            shapes.push_back(t.sizes().vec());
        model.load(modelArchive);
        const auto after = stateOf(model);
        for (size_t k = 0; k < after.size(); ++k)
            if (after[k].sizes().vec() != shapes[k])
                throw Error("the checkpoint " + path_ + " was written for a model of other sizes");
        model.to(device);
    } catch (const c10::Error& e) {
        throw Error("the checkpoint " + path_ + " does not fit this model: " + e.what_without_backtrace());
    }
}

void CheckpointReader::restoreOptimizer(FlatOptimizer& optimizer)
{
    try {
        torch::serialize::InputArchive optimizerArchive;
        archive_.read("optimizer", optimizerArchive);
        optimizer.load(optimizerArchive);
    } catch (const c10::Error& e) {
        throw Error("cannot read the optimizer of the checkpoint " + path_ + ": " + e.what_without_backtrace());
    } catch (const Error& e) {
        throw Error("the checkpoint " + path_ + ": " + e.what());
    }
}

void ModelSnapshot::take(const torch::nn::Module& model)
{
    torch::NoGradGuard noGrad;
    tensors_.clear();
    for (const auto& t : stateOf(model))
        tensors_.push_back(t.detach().clone());
}

void ModelSnapshot::restore(torch::nn::Module& model) const
{
    torch::NoGradGuard noGrad;
    const auto state = stateOf(model);
    for (size_t k = 0; k < state.size() && k < tensors_.size(); ++k)
        state[k].copy_(tensors_[k]);
}

} // namespace reclab
