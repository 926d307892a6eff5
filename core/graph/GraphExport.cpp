#include "graph/GraphExport.h"

#include "graph/GraphAnalysis.h"
#include "graph/GraphSteps.h"
#include "models/Dice.h"
#include "util/Error.h"
#include "util/Files.h"
#include "util/TorchFiles.h"

#include <torch/csrc/jit/api/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/serialize.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace reclab {

namespace fs = std::filesystem;

void saveTrainedGraph(GraphModelImpl& model, const std::string& dir)
{
    createFolders(dir);
    const GraphData& d = model.data();
    const nlohmann::json meta{{"graph", model.graph().toJson()},
                              {"data",
                               {{"users", d.numUsers},
                                {"items", d.numItems},
                                {"categories", d.numGenres},
                                {"global_mean", d.globalMean}}}};
    // Each file whole or not at all, so a reader never sees half of one.
    const fs::path folder(dir);
    torch::serialize::OutputArchive archive;
    model.save(archive);
    saveArchiveWhole(archive, (folder / "weights.pt").string());
    writeFileWhole((folder / "graph.json").string(), meta.dump(2) + "\n");
}

GraphModel loadTrainedGraph(const std::string& dir)
{
    const fs::path folder(dir);
    const std::string jsonPath = (folder / "graph.json").string();
    std::error_code ec;
    if (!fs::exists(jsonPath, ec))
        throw GraphError(dir, "", "no trained graph here (graph.json is missing); was the run a graph run that ended?");
    const nlohmann::json meta = nlohmann::json::parse(readWholeFile(jsonPath, size_t{16} << 20, "a trained graph"), nullptr, false);
    if (meta.is_discarded() || !meta.is_object())
        throw GraphError(jsonPath, "", "not valid JSON (expected an object with \"graph\" and \"data\")");
    const auto data = meta.find("data");
    GraphData d;
    if (data == meta.end() || !data->is_object())
        throw GraphError(jsonPath, "data", "expected users, items, categories and global_mean");
    auto whole = [&](const char* key) {
        const auto it = data->find(key);
        if (it == data->end() || !it->is_number_integer())
            throw GraphError(jsonPath, "data", std::string("expected a whole number ") + key);
        return it->get<int64_t>();
    };
    d.numUsers = whole("users");
    d.numItems = whole("items");
    d.numGenres = whole("categories");
    const auto mean = data->find("global_mean");
    if (mean == data->end() || !mean->is_number())
        throw GraphError(jsonPath, "data", "expected a number global_mean");
    d.globalMean = mean->get<double>();
    // The data tensors below take numItems x (categories + 2) + 2 numUsers floats.
    if (d.numUsers < 0 || d.numItems < 0 || d.numGenres < 0 || d.numUsers > (1ll << 31) || d.numItems > (1ll << 31) ||
        d.numGenres > (1 << 20) || static_cast<double>(d.numItems) * static_cast<double>(d.numGenres + 2) + 2.0 * static_cast<double>(d.numUsers) > 1e9)
        throw GraphError(jsonPath, "data", "sizes out of range");
    const auto graphJson = meta.find("graph");
    const GraphSpec graph = GraphSpec::fromJson(graphJson == meta.end() ? nlohmann::json() : *graphJson, jsonPath);
    // The sizes the run was built for must fit here (tables that cannot fit are refused).
    const GraphAnalysis analysis = analyseGraph(graph, GraphContext{d.numUsers, d.numItems, d.numGenres, 0});
    if (!analysis.ok())
        throw GraphError(jsonPath, "graph", graphProblems(analysis, "the trained graph"));
    const std::string weights = (folder / "weights.pt").string();
    if (!fs::exists(weights, ec))
        throw GraphError(dir, "", "weights.pt is missing");
    // The data tensors come back from the weights file with the rest.
    d.genreMix = torch::zeros({d.numItems, d.numGenres});
    d.userFeatures = torch::zeros({d.numUsers, 2});
    d.itemFeatures = torch::zeros({d.numItems, 1});
    d.inverseCounts = torch::zeros({d.numItems + 1});
    GraphModel model(graph, d, 0.0);
    torch::serialize::InputArchive archive;
    const auto source = loadArchive(archive, weights, torch::Device(torch::kCPU), "the weights of a trained graph");
    loadModuleChecked(*model, archive, weights);
    model->eval();
    return model;
}

namespace {

// The TorchScript name of a weight ("tower.0.weight" -> "tower__0__weight").
std::string flatName(const std::string& name)
{
    std::string out;
    for (const char c : name)
        out += c == '.' ? std::string("__") : std::string(1, c);
    return out;
}

class ScriptWriter {
public:
    explicit ScriptWriter(GraphModelImpl& model) : model_(model)
    {
        for (const auto& p : model.named_parameters())
            names_[p.value().unsafeGetTensorImpl()] = flatName(p.key());
        for (const auto& b : model.named_buffers())
            names_[b.value().unsafeGetTensorImpl()] = flatName(b.key());
    }

    std::string run();

private:
    std::string self(const torch::Tensor& t) const { return "self." + names_.at(t.unsafeGetTensorImpl()); }
    std::string var(size_t k) const { return "v" + std::to_string(k); }
    void line(const std::string& text) { code_ << "    " << text << '\n'; }
    // x as a row per behaviour when needed (x per row, the other side a sequence).
    std::string rows(size_t k, bool sequence) const
    {
        return sequence && !sequence_[k] ? var(k) + ".index_select(0, row_of)" : var(k);
    }
    std::string linear(const std::string& x, torch::nn::LinearImpl& l) const
    {
        return "torch.matmul(" + x + ", " + self(l.weight) + ".t())" + (l.bias.defined() ? " + " + self(l.bias) : "");
    }
    // One layer of an MLP or activation block, applied to x (evaluation: dropout is identity).
    std::string layer(const std::string& x, torch::nn::Module& m) const;

    GraphModelImpl& model_;
    std::map<const void*, std::string> names_;
    std::vector<bool> sequence_;
    std::ostringstream code_;
};

std::string ScriptWriter::layer(const std::string& x, torch::nn::Module& m) const
{
    if (auto* l = m.as<torch::nn::Linear>())
        return linear(x, *l);
    if (m.as<torch::nn::ReLU>())
        return "torch.relu(" + x + ")";
    if (m.as<torch::nn::Sigmoid>())
        return "torch.sigmoid(" + x + ")";
    if (m.as<torch::nn::Tanh>())
        return "torch.tanh(" + x + ")";
    if (auto* p = m.as<torch::nn::PReLU>())
        return "torch.prelu(" + x + ", " + self(p->weight) + ")";
    if (auto* d = m.as<Dice>()) {
        const auto params = d->named_parameters(false);
        const auto buffers = d->named_buffers(false);
        const std::string a = self(params["alpha"]);
        return x + " * (" + a + " + (1.0 - " + a + ") * torch.sigmoid((" + x + " - " + self(buffers["running_mean"]) +
               ") * torch.rsqrt(" + self(buffers["running_var"]) + " + 1e-08)))";
    }
    if (auto* b = m.as<torch::nn::BatchNorm1d>())
        return "(" + x + " - " + self(b->running_mean) + ") * torch.rsqrt(" + self(b->running_var) + " + " +
               std::to_string(b->options.eps()) + ") * " + self(b->weight) + " + " + self(b->bias);
    return x; // dropout
}

std::string ScriptWriter::run()
{
    const GraphAnalysis& a = model_.analysis();
    const auto& steps = model_.steps();
    const bool history = a.usesHistory;
    code_ << "def forward(self, users: Tensor, items: Tensor"
          << (history ? ", history: Tensor, history_length: Tensor" : "") << ") -> Tensor:\n";
    if (history) {
        // Sequences padded to L and flattened to B * L rows; the mask keeps padding out of pools.
        line("batch = items.size(0)");
        line("width = history.size(1)");
        line("mask = (torch.arange(width, device=history.device).unsqueeze(0) < history_length.unsqueeze(1)).reshape(-1)");
        line("mask_f = mask.float().unsqueeze(1)");
        line("row_of = torch.arange(batch, device=history.device).repeat_interleave(width)");
        line("behaviours = history.reshape(-1) * mask.long()");
    }
    sequence_.assign(steps.size(), false);
    for (size_t k = 0; k < steps.size(); ++k) {
        GraphModelImpl::Step& s = *steps[k];
        const BlockAnalysis* b = a.block(s.id);
        sequence_[k] = b->output && b->output->sequence;
        const std::string v = var(k);
        auto in = [&](size_t port) { return s.inputs[port]; };
        switch (s.op) {
        case BlockOp::UserId: line(v + " = users"); break;
        case BlockOp::ItemId:
        case BlockOp::ItemCategory: line(v + " = items"); break;
        case BlockOp::History:
        case BlockOp::HistoryCategory: line(v + " = behaviours"); break;
        case BlockOp::Dense: {
            std::string cols;
            for (const int c : s.features)
                cols += (cols.empty() ? "" : ", ") +
                        (c < 2 ? self(model_.data().userFeatures) + ".select(1, " + std::to_string(c) +
                                     ").index_select(0, users)"
                               : self(model_.data().itemFeatures) + ".select(1, 0).index_select(0, items)");
            line(v + " = torch.stack([" + cols + "], 1)");
            break;
        }
        case BlockOp::Embedding: {
            const auto& weight = model_.named_modules()[s.table]->as<torch::nn::Embedding>()->weight;
            const std::string table =
                s.bag ? "torch.matmul(" + self(model_.data().genreMix) + ", " + self(weight) + ")" : self(weight);
            line(v + " = " + table + ".index_select(0, " + var(in(0)) + ")");
            break;
        }
        case BlockOp::Linear: line(v + " = " + linear(var(in(0)), *s.linear)); break;
        case BlockOp::Mlp: {
            line(v + " = " + var(in(0)));
            for (auto& child : s.sequential->children())
                line(v + " = " + layer(v, *child));
            break;
        }
        case BlockOp::Unary: line(v + " = " + layer(var(in(0)), *s.unary.ptr())); break;
        case BlockOp::Product:
        case BlockOp::Add:
        case BlockOp::Dot: {
            const std::string x = rows(in(0), sequence_[k]), y = rows(in(1), sequence_[k]);
            line(v + " = " + (s.op == BlockOp::Add       ? x + " + " + y
                              : s.op == BlockOp::Product ? x + " * " + y
                                                         : "(" + x + " * " + y + ").sum(1, keepdim=True)"));
            break;
        }
        case BlockOp::Concat: {
            std::string parts;
            for (const size_t i : s.inputs)
                parts += (parts.empty() ? "" : ", ") + rows(i, sequence_[k]);
            line(v + " = torch.cat([" + parts + "], 1)");
            break;
        }
        case BlockOp::SumPool:
        case BlockOp::MeanPool:
            line(v + " = (" + var(in(0)) + " * mask_f).view(batch, width, -1).sum(1)");
            if (s.op == BlockOp::MeanPool)
                line(v + " = " + v + " / history_length.clamp(min=1).float().unsqueeze(1)");
            break;
        case BlockOp::Attention: {
            const std::string h = var(in(0)), t = v + "_query";
            line(t + " = " + var(in(1)) + ".index_select(0, row_of)");
            line(v + "_w = " + linear("torch.cat([" + h + ", " + t + ", " + h + " - " + t + ", " + h + " * " + t + "], 1)",
                                      *s.linear));
            for (auto& child : s.sequential->children())
                line(v + "_w = " + layer(v + "_w", *child));
            line(v + " = (" + h + " * " + v + "_w * mask_f).view(batch, width, -1).sum(1)");
            break;
        }
        case BlockOp::ClickOutput: line("return " + var(in(0)) + ".squeeze(1)"); break;
        case BlockOp::RatingOutput:
            line("return " + var(in(0)) + ".squeeze(1)" + (s.addGlobalMean ? " + self.global_mean" : ""));
            break;
        }
    }
    return code_.str();
}

} // namespace

std::string torchScriptSource(GraphModelImpl& model)
{
    return ScriptWriter(model).run();
}

std::string exportTorchScript(GraphModelImpl& model, const std::string& path)
{
    model.eval();
    torch::jit::Module module("RecLabGraph");
    std::map<std::string, std::string> seen;
    auto add = [&](const std::string& name, const torch::Tensor& t, bool parameter) {
        const std::string flat = flatName(name);
        if (!seen.emplace(flat, name).second)
            throw GraphError(model.graph().name, name, "clashes with " + seen[flat] + " as a TorchScript name");
        if (parameter)
            module.register_parameter(flat, t.detach().clone(), false);
        else
            module.register_buffer(flat, t.detach().clone());
    };
    for (const auto& p : model.named_parameters())
        add(p.key(), p.value(), true);
    for (const auto& b : model.named_buffers())
        add(b.key(), b.value(), false);
    module.register_buffer("global_mean", torch::tensor(static_cast<float>(model.data().globalMean)));
    module.define(torchScriptSource(model));
    module.eval();
    saveScriptModuleWhole(module, path);
    return model.analysis().usesHistory ? "forward(users, items, history, history_length)" : "forward(users, items)";
}

} // namespace reclab
