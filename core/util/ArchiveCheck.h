// A LibTorch archive (the zip file torch::serialize writes: checkpoints, snapshots, a trained
// graph's weights) checked before LibTorch reads it. LibTorch 1.13 does not verify the records'
// CRC-32 (its miniz is built without the check), and a malformed TorchScript type source in the
// archive's code/ records makes it throw where no exception may pass, which terminates the
// process: one damaged byte could take the workbench down. util/TorchFiles.cpp therefore
// verifies every record's CRC-32 (the compressed ones after LibTorch's own inflate) and accepts
// code records only of the few forms LibTorch writes for saved modules. This part reads the zip
// directory and checks stored records without LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace reclab {

class ReadableFile;

struct ZipRecord {
    std::string name;
    uint32_t crc = 0;
    bool compressed = false; // deflated; else stored
    uint64_t size = 0;       // uncompressed
    uint64_t compressedSize = 0;
    uint64_t data = 0; // offset of its bytes in the file
};

// The records of a zip file, their local headers checked; DataError ("not <what> (...)") for
// anything that is not a well-formed zip.
std::vector<ZipRecord> readZipDirectory(const ReadableFile& file, const std::string& what);

// CRC-32 (IEEE, as zip uses) of bytes, continuing from crc.
uint32_t crc32Update(uint32_t crc, const void* bytes, size_t size);

// Whether a record holds TorchScript source (code/...py).
bool isCodeRecord(const ZipRecord& record);

// Verifies a stored record's CRC-32; its bytes go to source when given (for code records).
void checkStoredRecord(const ReadableFile& file, const ZipRecord& record, const std::string& what,
                       std::string* source = nullptr);

// Whether text is a class source of the forms LibTorch writes for a saved module (class header,
// __parameters__, __buffers__, attributes and __annotations__ with their types); the classes it
// defines and the __torch__ types it refers to go to out when given.
struct ModuleSource {
    std::vector<std::string> classes;
    std::vector<std::string> references; // "__torch__.___torch_mangle_0.Module"
};
bool isSavedModuleSource(const std::string& text, ModuleSource* out = nullptr);

// Checks that the code records of an archive hold every class its sources refer to, as LibTorch
// will look them up: DataError otherwise. sources: record name relative to the archive's top
// folder ("code/__torch__/x.py") -> what it defines and refers to.
void checkModuleReferences(const ReadableFile& file, const std::string& what,
                           const std::vector<std::pair<std::string, ModuleSource>>& sources);

// DataError "not <what> (<why>)" naming the file.
[[noreturn]] void refuseArchive(const ReadableFile& file, const std::string& what, const std::string& why);

} // namespace reclab
