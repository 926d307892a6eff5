#include "train/EmbeddingSnapshots.h"

#include "util/Error.h"
#include "util/Files.h"
#include "util/TorchFiles.h"
#include "util/TextFile.h"

#include <torch/nn/modules/embedding.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace reclab {

namespace fs = std::filesystem;

namespace {

fs::path snapshotDir(const std::string& runDir) { return fs::path(runDir) / "embeddings"; }

std::string epochFile(int epoch)
{
    char name[32];
    std::snprintf(name, sizeof name, "epoch-%04d.pt", epoch);
    return name;
}


nlohmann::json readIndex(const std::string& runDir)
{
    const fs::path path = snapshotDir(runDir) / "index.json";
    std::error_code ec;
    if (!fs::exists(path, ec))
        return nlohmann::json::object({{"snapshots", nlohmann::json::array()}});
    const std::string text = readWholeFile(path.string(), size_t{64} << 20, "an embedding index");
    const nlohmann::json index = nlohmann::json::parse(text, nullptr, false);
    auto bad = [&](const std::string& problem) { return DataError(path.string(), 0, "snapshots", problem); };
    if (index.is_discarded())
        throw bad("not valid JSON");
    if (!index.is_object() || !index.contains("snapshots") || !index["snapshots"].is_array())
        throw bad("expected an object with a \"snapshots\" list");
    // Every entry as listEmbeddingSnapshots and readEmbeddingSnapshot read it.
    for (const auto& s : index["snapshots"]) {
        if (!s.is_object() || !s.contains("epoch") || !s["epoch"].is_number_integer() || s["epoch"].get<int64_t>() < 1 ||
            s["epoch"].get<int64_t>() > 1000000 || !s.contains("tables") || !s["tables"].is_array())
            throw bad("expected entries {\"epoch\": N, \"tables\": [...]} with N from 1");
        for (const auto& t : s["tables"])
            if (!t.is_object() || !t.contains("name") || !t["name"].is_string() || !t.contains("kind") || !t["kind"].is_string() ||
                !t.contains("rows") || !t["rows"].is_number_integer() || t["rows"].get<int64_t>() < 0 ||
                !t.contains("dim") || !t["dim"].is_number_integer() || t["dim"].get<int64_t>() < 0)
                throw bad("expected tables {\"name\", \"kind\", \"rows\", \"dim\"} with whole sizes");
    }
    return index;
}

} // namespace

std::vector<EmbeddingTable> embeddingTables(const torch::nn::Module& model, int64_t numUsers, int64_t numItems, bool copy)
{
    std::vector<EmbeddingTable> out;
    for (const auto& item : model.named_modules("", false)) {
        const auto* embedding = item.value()->as<torch::nn::EmbeddingImpl>();
        if (!embedding)
            continue;
        const torch::Tensor& w = embedding->weight;
        if (w.dim() != 2 || w.size(1) < 2)
            continue;
        const std::string kind = w.size(0) == numUsers ? "users" : w.size(0) == numItems ? "items" : "";
        if (kind.empty())
            continue;
        torch::Tensor weights = w.detach().to(torch::kCPU, torch::kFloat);
        out.push_back({item.key(), kind, copy ? weights.clone() : weights});
    }
    return out;
}

bool shouldSnapshot(int epoch, int epochs, int64_t bytes)
{
    if (bytes <= 0)
        return false;
    if (bytes * std::max(epochs, 1) <= (int64_t(256) << 20))
        return true;
    return epoch == epochs || (epoch & (epoch - 1)) == 0;
}

void writeEmbeddingSnapshot(const std::string& runDir, int epoch, const std::vector<EmbeddingTable>& tables)
{
    const fs::path dir = snapshotDir(runDir);
    createFolders(dir.string());
    const fs::path file = dir / epochFile(epoch);
    torch::serialize::OutputArchive archive;
    nlohmann::json entry{{"epoch", epoch}, {"file", epochFile(epoch)}, {"tables", nlohmann::json::array()}};
    for (const auto& t : tables) {
        archive.write(t.name, t.weights);
        entry["tables"].push_back({{"name", t.name}, {"kind", t.kind}, {"rows", t.weights.size(0)}, {"dim", t.weights.size(1)}});
    }
    saveArchiveWhole(archive, file.string());
    // The index names the snapshot only once its file is whole.
    nlohmann::json index = readIndex(runDir);
    auto& list = index["snapshots"];
    list.erase(std::remove_if(list.begin(), list.end(), [&](const nlohmann::json& s) { return s.value("epoch", 0) == epoch; }),
               list.end());
    list.push_back(entry);
    std::sort(list.begin(), list.end(),
              [](const nlohmann::json& a, const nlohmann::json& b) { return a.value("epoch", 0) < b.value("epoch", 0); });
    writeFileWhole((dir / "index.json").string(), index.dump(1) + "\n");
}

std::vector<EmbeddingSnapshotInfo> listEmbeddingSnapshots(const std::string& runDir)
{
    std::vector<EmbeddingSnapshotInfo> out;
    const nlohmann::json index = readIndex(runDir); // kept alive for the loop
    for (const auto& s : index["snapshots"]) {
        EmbeddingSnapshotInfo info;
        info.epoch = s.value("epoch", 0);
        for (const auto& t : s.value("tables", nlohmann::json::array()))
            info.tables.push_back({t.value("name", ""), t.value("kind", ""), t.value("rows", int64_t(0)), t.value("dim", int64_t(0))});
        out.push_back(std::move(info));
    }
    return out;
}

std::vector<EmbeddingTable> readEmbeddingSnapshot(const std::string& runDir, int epoch)
{
    const auto snapshots = listEmbeddingSnapshots(runDir);
    const auto it = std::find_if(snapshots.begin(), snapshots.end(), [&](const auto& s) { return s.epoch == epoch; });
    if (it == snapshots.end())
        throw Error(runDir + " has no embedding snapshot of epoch " + std::to_string(epoch));
    const fs::path file = snapshotDir(runDir) / epochFile(epoch);
    std::vector<EmbeddingTable> out;
    torch::serialize::InputArchive archive;
    const auto source = loadArchive(archive, file.string(), torch::Device(torch::kCPU), "an embedding snapshot");
    try {
        for (const auto& t : it->tables) {
            torch::Tensor w;
            archive.read(t.name, w);
            if (w.dim() != 2 || w.size(0) != t.rows || w.size(1) != t.dim)
                throw Error(file.string() + ": table " + t.name + " does not have the shape its index gives");
            out.push_back({t.name, t.kind, w});
        }
    } catch (const c10::Error& e) {
        throw DataError(file.string(), 0, "", "cannot read the embedding snapshot: " + torchErrorText(e));
    }
    return out;
}

} // namespace reclab
