#include "compiled/GraphExport.h"

#include "graph/GraphAnalysis.h"
#include "compiled/BlockKernel.h"
#include "models/Dice.h"
#include "util/Error.h"
#include "util/Files.h"
#include "util/TorchFiles.h"

#include <torch/csrc/jit/api/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/dropout.h>
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
    nlohmann::json meta{{"graph", model.graph().toJson()},
                        {"data",
                         {{"users", d.numUsers},
                          {"items", d.numItems},
                          {"categories", d.numGenres},
                          {"global_mean", d.globalMean},
                          {"fields", d.fieldSizes}}}};
    if (d.numWords > 0) {
        // The text tensors' sizes (their values are in the weights) and the vocabulary's words.
        auto width = [](const torch::Tensor& t, int64_t k) { return t.defined() ? t.size(k) : int64_t{0}; };
        meta["data"]["text"] = {{"words", d.numWords},
                                {"fields", d.textFields},
                                {"item_words", width(d.itemWords, 1)},
                                {"item_review_words", width(d.itemReviewWords, 1)},
                                {"user_review_words", width(d.userReviewWords, 1)},
                                {"vector_dim", width(d.wordVectors, 1)}};
        if (d.vocabulary)
            meta["data"]["text"]["vocabulary"] = *d.vocabulary;
    }
    // Each file whole or not at all, so a reader never sees half of one.
    const fs::path folder(dir);
    torch::serialize::OutputArchive archive;
    model.save(archive);
    saveArchiveWhole(archive, (folder / "weights.pt").string());
    writeFileWhole((folder / "graph.json").string(), meta.dump(2) + "\n");
}

namespace {

// The text tensors of a trained graph as zeros of their saved sizes (the weights file fills them).
void readTextSizes(const nlohmann::json& text, const std::string& jsonPath, GraphData& d)
{
    auto size = [&](const char* key, int64_t most) {
        const auto it = text.find(key);
        if (it == text.end() || !it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > most)
            throw GraphError(jsonPath, "data.text", std::string("expected a whole number ") + key + " up to " + std::to_string(most));
        return it->get<int64_t>();
    };
    if (!text.is_object())
        throw GraphError(jsonPath, "data.text", "expected an object with the text's sizes");
    d.numWords = size("words", int64_t{1} << 26);
    d.textFields = static_cast<unsigned>(size("fields", 255));
    auto words = [&](const char* key, int64_t rows) {
        const int64_t t = size(key, 1 << 20);
        if (static_cast<double>(rows) * static_cast<double>(t) > 4e8)
            throw GraphError(jsonPath, "data.text", std::string(key) + ": sizes out of range");
        return t > 0 ? torch::zeros({rows, t}, torch::kLong) : torch::Tensor();
    };
    d.itemWords = words("item_words", d.numItems);
    d.itemReviewWords = words("item_review_words", d.numItems);
    d.userReviewWords = words("user_review_words", d.numUsers);
    if (const int64_t dim = size("vector_dim", 65536)) {
        d.wordVectors = torch::zeros({d.numWords + 1, dim});
        d.wordKnown = torch::zeros({d.numWords + 1, 1});
    }
    if (const auto words = text.find("vocabulary"); words != text.end() && words->is_array())
        d.vocabulary = std::make_shared<const std::vector<std::string>>(words->get<std::vector<std::string>>());
}

} // namespace

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
    GraphContext sizes{d.numUsers, d.numItems, d.numGenres, 0};
    if (const auto fields = data->find("fields"); fields != data->end()) {
        if (!fields->is_array() || fields->size() != d.fieldSizes.size())
            throw GraphError(jsonPath, "data.fields", "expected the code counts of the six profile fields");
        for (size_t k = 0; k < d.fieldSizes.size(); ++k) {
            const auto& v = (*fields)[k];
            if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > (1 << 24))
                throw GraphError(jsonPath, "data.fields", "expected whole code counts up to 16777216");
            d.fieldSizes[k] = v.get<int64_t>();
        }
        sizes.fieldSizes = d.fieldSizes;
    }
    if (const auto text = data->find("text"); text != data->end() && text->is_object()) {
        sizes.numWords = text->value("words", int64_t{0});
        sizes.textFields = text->value("fields", 0u);
    }
    const GraphAnalysis analysis = analyseGraph(graph, sizes);
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
    d.userFields = torch::zeros({d.numUsers, 4}, torch::kLong);
    d.itemFields = torch::zeros({d.numItems, 2}, torch::kLong);
    if (const auto text = data->find("text"); text != data->end())
        readTextSizes(*text, jsonPath, d);
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

} // namespace

ScriptPass::ScriptPass(GraphModelImpl& m) : model(m), data(m.data())
{
    for (const auto& p : model.named_parameters())
        names_[p.value().unsafeGetTensorImpl()] = flatName(p.key());
    for (const auto& b : model.named_buffers())
        names_[b.value().unsafeGetTensorImpl()] = flatName(b.key());
}

std::string ScriptPass::self(const torch::Tensor& t) const { return "self." + names_.at(t.unsafeGetTensorImpl()); }

std::string ScriptPass::rows(const ScriptValue& x, bool sequence)
{
    return sequence && !x.sequence ? x.name + ".index_select(0, row_of)" : x.name;
}

std::string ScriptPass::linear(const std::string& x, torch::nn::LinearImpl& l) const
{
    return "torch.matmul(" + x + ", " + self(l.weight) + ".t())" + (l.bias.defined() ? " + " + self(l.bias) : "");
}

ScriptValue ScriptPass::assign(const GraphStep& s, const std::string& expr)
{
    line(var(s) + " = " + expr);
    return {var(s), s.output && s.output->sequence};
}

std::string ScriptPass::layer(const std::string& x, torch::nn::Module& m) const
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
    if (m.as<torch::nn::Dropout>())
        return x;
    throw std::logic_error("no TorchScript form for module " + m.name());
}

PaddedScript ScriptPass::padded(const GraphStep& s, const ScriptValue& in)
{
    if (in.words.empty())
        return {"(" + in.name + " * mask_f).view(batch, width, -1)", "batch", "width", "history_length", "history.device"};
    const std::string lengths = var(s) + "_len";
    line(lengths + " = (" + in.words + " > 0).sum(1)");
    return {in.name, in.name + ".size(0)", in.name + ".size(1)", lengths, in.name + ".device"};
}

bool ScriptPass::visit(GraphStep& s, const Inputs<ScriptValue>& in, ScriptValue& out)
{
    out = s.kernel->script(*this, s, in);
    return true;
}

std::string torchScriptSource(GraphModelImpl& model)
{
    ScriptPass pass(model);
    const bool history = model.analysis().usesHistory;
    std::string head = std::string("def forward(self, users: Tensor, items: Tensor") +
                       (history ? ", history: Tensor, history_length: Tensor" : "") + ") -> Tensor:\n";
    if (history) {
        // Sequences padded to L and flattened to B * L rows; the mask keeps padding out of pools.
        pass.line("batch = items.size(0)");
        pass.line("width = history.size(1)");
        pass.line("mask = (torch.arange(width, device=history.device).unsqueeze(0) < history_length.unsqueeze(1)).reshape(-1)");
        pass.line("mask_f = mask.float().unsqueeze(1)");
        pass.line("row_of = torch.arange(batch, device=history.device).repeat_interleave(width)");
        pass.line("behaviours = history.reshape(-1) * mask.long()");
    }
    walkSteps(model.steps(), pass);
    return head + pass.code();
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
