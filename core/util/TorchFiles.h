// LibTorch archives read and written through util/Files.h: only regular files are read (a FIFO
// or a device cannot block or feed a load forever), and every save is whole or not at all,
// with a full disk reported as an IoError instead of LibTorch terminating the process.
#pragma once

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <memory>
#include <string>

namespace c10 {
class Error;
}
namespace torch::jit {
struct Module;
}
namespace torch::nn {
class Module;
}

namespace reclab {

class ReadableFile;

// The first line of a LibTorch error, without its stack frames.
std::string torchErrorText(const c10::Error& error);

// Writes archive to path whole or not at all; IoError naming the file on failure.
void saveArchiveWhole(torch::serialize::OutputArchive& archive, const std::string& path);
// Saves a TorchScript module the same way.
void saveScriptModuleWhole(const torch::jit::Module& module, const std::string& path);

// Loads archive from the regular file path onto device. Throws DataError naming the file when it
// is not a regular file or not a LibTorch archive (what: "a checkpoint", for the message).
// The returned file must outlive the archive's reads.
std::shared_ptr<ReadableFile> loadArchive(torch::serialize::InputArchive& archive, const std::string& path,
                                          const torch::Device& device, const char* what);

// Loads a module's parameters and buffers from archive (read into the module, moved back to the
// device it was on), refusing with DataError naming path an archive whose tensors are missing
// or of other shapes or types than the module's.
void loadModuleChecked(torch::nn::Module& module, torch::serialize::InputArchive& archive, const std::string& path);

} // namespace reclab
