#include "project/EmbeddingSnapshots.h"

#include "util/Error.h"
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
    std::ifstream in(path);
    if (!in)
        return nlohmann::json::object({{"snapshots", nlohmann::json::array()}});
    try {
        nlohmann::json index = nlohmann::json::parse(in);
        if (!index.contains("snapshots") || !index["snapshots"].is_array())
            throw Error(path.string() + ": no \"snapshots\" list");
        return index;
    } catch (const nlohmann::json::exception& e) {
        throw Error(path.string() + ": damaged embedding index: " + e.what());
    }
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
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw Error(dir.string() + ": " + ec.message());
    const fs::path file = dir / epochFile(epoch);
    torch::serialize::OutputArchive archive;
    nlohmann::json entry{{"epoch", epoch}, {"file", epochFile(epoch)}, {"tables", nlohmann::json::array()}};
    for (const auto& t : tables) {
        archive.write(t.name, t.weights);
        entry["tables"].push_back({{"name", t.name}, {"kind", t.kind}, {"rows", t.weights.size(0)}, {"dim", t.weights.size(1)}});
    }
    const fs::path partial = file.string() + ".part";
    try {
        archive.save_to(partial.string());
    } catch (const c10::Error& e) {
        throw Error(partial.string() + ": cannot write the embedding snapshot: " + e.what_without_backtrace());
    }
    fs::rename(partial, file, ec);
    if (ec)
        throw Error(file.string() + ": " + ec.message());
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
    try {
        torch::serialize::InputArchive archive;
        archive.load_from(file.string());
        for (const auto& t : it->tables) {
            torch::Tensor w;
            archive.read(t.name, w);
            if (w.dim() != 2 || w.size(0) != t.rows || w.size(1) != t.dim)
                throw Error(file.string() + ": table " + t.name + " does not have the shape its index gives");
            out.push_back({t.name, t.kind, w});
        }
    } catch (const c10::Error& e) {
        throw Error(file.string() + ": cannot read the embedding snapshot: " + e.what_without_backtrace());
    }
    return out;
}

} // namespace reclab
