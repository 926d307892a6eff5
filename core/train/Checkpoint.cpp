#include "train/Checkpoint.h"

#include "train/FlatOptimizer.h"
#include "util/Error.h"
#include "util/Files.h"
#include "util/TorchFiles.h"

#include <torch/serialize/output-archive.h>

#include <filesystem>

namespace reclab {

namespace {

// Version 2 adds the identity (run, data and split fingerprints).
constexpr int64_t kCheckpointVersion = 2;

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
                     const TrainingProgress& progress, const CheckpointIdentity& identity)
{
    torch::serialize::OutputArchive archive;
    archive.write("version", c10::IValue(kCheckpointVersion));
    archive.write("identity.run_id", c10::IValue(identity.runId));
    archive.write("identity.dataset", c10::IValue(identity.datasetFingerprint));
    archive.write("identity.split", c10::IValue(identity.splitFingerprint));
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
    if (target.has_parent_path())
        createFolders(target.parent_path().string());
    saveArchiveWhole(archive, path);
}

void copyCheckpoint(const std::string& from, const std::string& to)
{
    copyFileWhole(from, to);
}

CheckpointReader::CheckpointReader(const std::string& path) : path_(path)
{
    // Moved to the model's device on restore.
    file_ = loadArchive(archive_, path, torch::Device(torch::kCPU), "a RecLab checkpoint");
    try {
        c10::IValue version, epoch, step, rng, bestEpoch, bestStep, bestValue, bad;
        if (!archive_.try_read("version", version) || !version.isInt())
            throw DataError(path, 0, "", "not a RecLab checkpoint (it has no version)");
        if (version.toInt() < 1 || version.toInt() > kCheckpointVersion)
            throw DataError(path, 0, "version", "the checkpoint has version " + std::to_string(version.toInt()) +
                                                    "; this RecLab reads versions 1 to " + std::to_string(kCheckpointVersion));
        if (version.toInt() >= 2) {
            c10::IValue run, dataset, split;
            archive_.read("identity.run_id", run);
            archive_.read("identity.dataset", dataset);
            archive_.read("identity.split", split);
            identity_.runId = run.toInt();
            identity_.datasetFingerprint = dataset.toStringRef();
            identity_.splitFingerprint = split.toStringRef();
        }
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
        if (progress_.epoch < 0 || progress_.step < 0 || progress_.bestEpoch < 0 || progress_.bestEpoch > progress_.epoch)
            throw DataError(path, 0, "progress", "the checkpoint's epochs are out of range");
    } catch (const c10::Error& e) {
        throw DataError(path, 0, "", "not a RecLab checkpoint (" + torchErrorText(e) + ")");
    }
}

void CheckpointReader::requireIdentity(const CheckpointIdentity& expected) const
{
    const CheckpointIdentity& own = identity_;
    if (own.runId != 0 && expected.runId != 0 && own.runId != expected.runId)
        throw Error("the checkpoint " + path_ + " belongs to run " + std::to_string(own.runId) + ", not run " +
                    std::to_string(expected.runId));
    if (!own.datasetFingerprint.empty() && !expected.datasetFingerprint.empty() &&
        own.datasetFingerprint != expected.datasetFingerprint)
        throw Error("the checkpoint " + path_ + " was trained on other data (fingerprint " + own.datasetFingerprint +
                    ", this run's is " + expected.datasetFingerprint + ")");
    if (!own.splitFingerprint.empty() && !expected.splitFingerprint.empty() &&
        own.splitFingerprint != expected.splitFingerprint)
        throw Error("the checkpoint " + path_ + " was trained on another split (fingerprint " + own.splitFingerprint +
                    ", this run's is " + expected.splitFingerprint + ")");
}

void CheckpointReader::restoreModel(torch::nn::Module& model)
{
    torch::serialize::InputArchive modelArchive;
    try {
        archive_.read("model", modelArchive);
    } catch (const c10::Error& e) {
        throw DataError(path_, 0, "model", "the checkpoint holds no model (" + torchErrorText(e) + ")");
    }
    // The archive holds tensors on the CPU; the model goes back to its own device.
    loadModuleChecked(model, modelArchive, path_);
}

void CheckpointReader::restoreOptimizer(FlatOptimizer& optimizer)
{
    try {
        torch::serialize::InputArchive optimizerArchive;
        archive_.read("optimizer", optimizerArchive);
        optimizer.load(optimizerArchive);
    } catch (const c10::Error& e) {
        throw Error("cannot read the optimizer of the checkpoint " + path_ + ": " + torchErrorText(e));
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
