#include "util/TorchFiles.h"

#include "util/Error.h"
#include "util/Files.h"

#include <torch/csrc/jit/api/module.h>
#include <torch/nn/module.h>

namespace reclab {

std::string torchErrorText(const c10::Error& error)
{
    std::string text = error.what_without_backtrace();
    if (const size_t newline = text.find('\n'); newline != std::string::npos)
        text.resize(newline);
    return text;
}

namespace {

// save(out) writes through the tolerant sink or stream of out; then the file is put in place.
template <typename Save> void saveWhole(const std::string& path, Save save)
{
    AtomicFileWriter out(path);
    try {
        save(out);
    } catch (const c10::Error& e) {
        throw IoError(path + ": cannot write: " + torchErrorText(e));
    }
    out.commit();
}

} // namespace

void saveArchiveWhole(torch::serialize::OutputArchive& archive, const std::string& path)
{
    saveWhole(path, [&](AtomicFileWriter& out) { archive.save_to(out.tolerantSink()); });
}

void saveScriptModuleWhole(const torch::jit::Module& module, const std::string& path)
{
    saveWhole(path, [&](AtomicFileWriter& out) { module.save(out.tolerantStream()); });
}

std::shared_ptr<ReadableFile> loadArchive(torch::serialize::InputArchive& archive, const std::string& path,
                                          const torch::Device& device, const char* what)
{
    auto file = std::make_shared<ReadableFile>(path);
    if (file->size() == 0)
        throw DataError(path, 0, "", std::string("the file is empty; expected ") + what);
    try {
        archive.load_from([file](uint64_t pos, void* buf, size_t n) { return file->read(buf, n, pos); },
                          [file] { return file->size(); }, device);
    } catch (const c10::Error& e) {
        throw DataError(path, 0, "", std::string("not ") + what + " (" + torchErrorText(e) + ")");
    }
    return file;
}

void loadModuleChecked(torch::nn::Module& module, torch::serialize::InputArchive& archive, const std::string& path)
{
    // Parameters then buffers, in registration order (the order save and load agree on).
    auto stateOf = [&] {
        std::vector<torch::Tensor> tensors = module.parameters();
        for (const auto& b : module.buffers())
            tensors.push_back(b);
        return tensors;
    };
    const auto before = stateOf();
    const torch::Device device = before.empty() ? torch::Device(torch::kCPU) : before.front().device();
    std::vector<std::pair<std::vector<int64_t>, c10::ScalarType>> kinds;
    for (const auto& t : before)
        kinds.emplace_back(t.sizes().vec(), t.scalar_type());
    try {
        module.load(archive);
    } catch (const c10::Error& e) {
        throw DataError(path, 0, "", "does not fit this model (" + torchErrorText(e) + ")");
    }
    const auto after = stateOf();
    for (size_t k = 0; k < after.size(); ++k)
        if (after[k].sizes().vec() != kinds[k].first || after[k].scalar_type() != kinds[k].second)
            throw DataError(path, 0, "", "was written for a model of other sizes");
    module.to(device);
}

} // namespace reclab
