#include "util/TorchFiles.h"

#include "util/ArchiveCheck.h"
#include "util/Error.h"
#include "util/Files.h"
#include "util/Versions.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/cuda.h>
#include <torch/nn/module.h>
#include <torch/version.h>

namespace reclab {

std::string torchVersionText()
{
    std::string text = TORCH_VERSION;
    text += torch::cuda::is_available() ? " (CUDA)" : " (CPU)";
    return text;
}


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

namespace {

// The file as LibTorch's zip reader reads it.
class FileReadAdapter : public caffe2::serialize::ReadAdapterInterface {
public:
    explicit FileReadAdapter(std::shared_ptr<const ReadableFile> file) : file_(std::move(file)) {}
    size_t size() const override { return file_->size(); }
    size_t read(uint64_t pos, void* buf, size_t n, const char*) const override { return file_->read(buf, n, pos); }

private:
    std::shared_ptr<const ReadableFile> file_;
};

// ArchiveCheck.h: every record's CRC-32, the compressed ones after LibTorch's inflate (before
// any of them is unpickled), and the source of every code record.
void checkTorchArchive(const std::shared_ptr<const ReadableFile>& file, const std::string& what)
{
    const std::vector<ZipRecord> records = readZipDirectory(*file, what);
    if (records.empty())
        refuseArchive(*file, what, "an empty zip archive");
    std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
    std::vector<std::pair<std::string, ModuleSource>> sources;
    for (const ZipRecord& r : records) {
        std::string source;
        const bool code = isCodeRecord(r);
        if (!r.compressed) {
            checkStoredRecord(*file, r, what, code ? &source : nullptr);
        } else {
            try {
                if (!reader)
                    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(std::make_shared<FileReadAdapter>(file));
                // LibTorch names records without the archive's top folder.
                const auto [bytes, size] = reader->getRecord(r.name.substr(r.name.find('/') + 1));
                if (size != r.size || crc32Update(0, bytes.get(), size) != r.crc)
                    refuseArchive(*file, what, "record " + r.name + " is damaged: its CRC-32 does not match");
                if (code)
                    source.assign(static_cast<const char*>(bytes.get()), size);
            } catch (const c10::Error& e) {
                refuseArchive(*file, what, "record " + r.name + " cannot be read: " + torchErrorText(e));
            }
        }
        if (!code)
            continue;
        ModuleSource parsed;
        if (!isSavedModuleSource(source, &parsed))
            refuseArchive(*file, what, "record " + r.name + " is not the source LibTorch writes for a saved module");
        sources.emplace_back(r.name.substr(r.name.find('/') + 1), std::move(parsed));
    }
    // LibTorch looks each class up as the sources name it; one it cannot find would end the process.
    checkModuleReferences(*file, what, sources);
}

} // namespace

std::shared_ptr<ReadableFile> loadArchive(torch::serialize::InputArchive& archive, const std::string& path,
                                          const torch::Device& device, const char* what)
{
    auto file = std::make_shared<ReadableFile>(path);
    if (file->size() == 0)
        throw DataError(path, 0, "", std::string("the file is empty; expected ") + what);
    // LibTorch neither checks the records' CRC nor survives every malformed record (ArchiveCheck.h).
    checkTorchArchive(file, what);
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
