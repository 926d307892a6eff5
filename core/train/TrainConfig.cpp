#include "train/TrainConfig.h"

#include "eval/Metrics.h"
#include "eval/Protocols.h"
#include "util/Error.h"
#include "util/OptionLimits.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace reclab {

void TrainConfig::validate() const
{
    if (model.empty())
        throw ConfigError("model", "must not be empty");
    if (epochs < 1 || epochs > 100000)
        throw ConfigError("epochs", "expected 1 to 100000, got " + std::to_string(epochs));
    if (batchSize < 1 || batchSize > (1 << 24))
        throw ConfigError("batch", "expected 1 to 16777216, got " + std::to_string(batchSize));
    requireNumber("lr", learningRate);
    requireNumber("l2", l2);
    if (optimizer != "adam" && optimizer != "sgd" && optimizer != "adagrad")
        throw ConfigError("optimizer", "expected adam, sgd or adagrad, got '" + optimizer + "'");
    requireNumber("weight-decay", weightDecay);
    requireNumber("momentum", momentum);
    if (momentum != 0 && optimizer != "sgd")
        throw ConfigError("momentum", "applies to the sgd optimizer only");
    if (threads < 0 || threads > 1024)
        throw ConfigError("threads", "expected 0 (default) to 1024");
    if (negatives < 1 || negatives > 1000)
        throw ConfigError("negatives", "expected 1 to 1000");
    if (factors < 1 || factors > 4096)
        throw ConfigError("factors", "expected 1 to 4096");
    const bool ncfTower = model == "mlp" || model == "neumf";
    if (mlpLayers.empty() || (ncfTower && (mlpLayers.size() < 2 || mlpLayers.front() % 2 != 0)))
        throw ConfigError("mlp-layers", ncfTower ? "expected at least two sizes, the first one even"
                                                 : "expected at least one size");
    for (const auto size : mlpLayers)
        if (size < 1 || size > 65536)
            throw ConfigError("mlp-layers", "every size must be 1 to 65536");
    if (attentionLayers.empty())
        throw ConfigError("attention-layers", "expected at least one size");
    for (const auto size : attentionLayers)
        if (size < 1 || size > 65536)
            throw ConfigError("attention-layers", "every size must be 1 to 65536");
    if (activation != "dice" && activation != "prelu")
        throw ConfigError("activation", "expected dice or prelu, got '" + activation + "'");
    if (historyLength < 1 || historyLength > 10000)
        throw ConfigError("history", "expected 1 to 10000 behaviours, got " + std::to_string(historyLength));
    requireNumber("positive-rating", positiveRating);
    if (pretrain && model != "neumf" && !customGraph())
        throw ConfigError("pretrain", "pre-training applies to neumf (or a graph that names its parts), not " + model);
    if (customGraph() && !graph.is_object())
        throw ConfigError("graph", "model 'graph' needs a graph (reclab-cli train --graph FILE)");
    requireNumber("pretrain-alpha", pretrainAlpha);
    if (similarity != "cosine" && similarity != "pearson")
        throw ConfigError("similarity", "expected cosine or pearson, got '" + similarity + "'");
    if (neighbours < 1 || neighbours > 1000000)
        throw ConfigError("neighbours", "expected 1 to 1000000");
    requireNumber("shrink", shrink);
    if (!protocol.empty() && !findProtocol(protocol))
        throw ConfigError("protocol", "expected " + protocolIds() + ", got '" + protocol + "'");
    if (fold < 1 || fold > 5)
        throw ConfigError("fold", "expected 1 to 5, got " + std::to_string(fold));
    if (evalNegatives < 1 || evalNegatives > 100000)
        throw ConfigError("eval-negatives", "expected 1 to 100000");
    if (topK < 1 || topK > 10000)
        throw ConfigError("k", "expected 1 to 10000");
    requireNumber("test-fraction", testFraction);
    if (reportEveryBatches < 1)
        throw ConfigError("report-every", "expected a positive number of batches");
    if (device != "cpu" && device.rfind("cuda", 0) != 0)
        throw ConfigError("device", "expected cpu, cuda or cuda:N, got '" + device + "'");
    if (!duplicates.empty() && duplicates != "latest" && duplicates != "keep")
        throw ConfigError("duplicates", "expected latest or keep, got '" + duplicates + "'");
    if (patience < 0 || patience > 100000)
        throw ConfigError("patience", "expected 0 (never stop early) to 100000 epochs");
    requireNumber("validation-fraction", validationFraction);
    if (!validationMetric.empty() && !(validationFraction + testFraction < 1))
        throw ConfigError("validation-fraction", "expected a number that leaves training data beside "
                                                 "the test fraction");
}

std::string TrainConfig::validationKey() const
{
    if (validationMetric.empty() || validationMetric.find('@') != std::string::npos)
        return validationMetric;
    for (const auto& m : metricTable())
        if (validationMetric == m.name && m.atK && m.accuracy)
            return validationMetric + "@" + std::to_string(topK);
    return validationMetric;
}

nlohmann::json TrainConfig::toJson() const
{
    nlohmann::json out{{"model", model},
                          {"epochs", epochs},
                          {"batch_size", batchSize},
                          {"learning_rate", learningRate},
                          {"l2", l2},
                          {"optimizer", optimizer},
                          {"weight_decay", weightDecay},
                          {"momentum", momentum},
                          {"seed", seed},
                          {"threads", threads},
                          {"device", device},
                          {"negatives", negatives},
                          {"factors", factors},
                          {"mlp_layers", mlpLayers},
                          {"pretrain", pretrain},
                          {"pretrain_alpha", pretrainAlpha},
                          {"similarity", similarity},
                          {"neighbours", neighbours},
                          {"shrink", shrink},
                          {"attention_layers", attentionLayers},
                          {"activation", activation},
                          {"history_length", historyLength},
                          {"positive_rating", positiveRating},
                          {"protocol", protocol},
                          {"fold", fold},
                          {"eval_negatives", evalNegatives},
                          {"top_k", topK},
                          {"test_fraction", testFraction},
                          {"report_every_batches", reportEveryBatches},
                          {"validation_metric", validationMetric},
                          {"patience", patience},
                          {"validation_fraction", validationFraction},
                          {"duplicates", duplicates}};
    if (customGraph())
        out["graph"] = graph;
    return out;
}

namespace {

// A JSON value as T, refused (not converted) when its type or range does not fit: a number too
// large for an int must not wrap or, from a double, be undefined behaviour.
template <typename T> bool fits(const nlohmann::json& v)
{
    if constexpr (std::is_same_v<T, bool>) {
        return v.is_boolean();
    } else if constexpr (std::is_integral_v<T>) {
        if (v.is_number_unsigned())
            return v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max());
        if (v.is_number_integer())
            return std::is_signed_v<T> && v.get<int64_t>() >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                   v.get<int64_t>() <= static_cast<int64_t>(std::numeric_limits<T>::max());
        return false;
    } else if constexpr (std::is_floating_point_v<T>) {
        return v.is_number();
    } else if constexpr (std::is_same_v<T, std::string>) {
        return v.is_string();
    } else { // a list of sizes
        if (!v.is_array())
            return false;
        for (const auto& e : v)
            if (!fits<typename T::value_type>(e))
                return false;
        return true;
    }
}

template <typename T> void readKey(const nlohmann::json& json, const char* key, T& out)
{
    const auto it = json.find(key);
    if (it == json.end())
        return;
    if (!fits<T>(*it))
        throw ConfigError(key, "has the wrong type or is out of range: " + it->dump().substr(0, 80));
    out = it->get<T>();
}

} // namespace

TrainConfig TrainConfig::fromJson(const nlohmann::json& json)
{
    if (!json.is_object())
        throw ConfigError("config", "expected a JSON object");
    TrainConfig c;
    readKey(json, "model", c.model);
    if (const auto it = json.find("graph"); it != json.end())
        c.graph = *it;
    readKey(json, "epochs", c.epochs);
    readKey(json, "batch_size", c.batchSize);
    readKey(json, "learning_rate", c.learningRate);
    readKey(json, "l2", c.l2);
    readKey(json, "optimizer", c.optimizer);
    readKey(json, "weight_decay", c.weightDecay);
    readKey(json, "momentum", c.momentum);
    readKey(json, "seed", c.seed);
    readKey(json, "threads", c.threads);
    readKey(json, "device", c.device);
    readKey(json, "negatives", c.negatives);
    readKey(json, "factors", c.factors);
    readKey(json, "mlp_layers", c.mlpLayers);
    readKey(json, "pretrain", c.pretrain);
    readKey(json, "pretrain_alpha", c.pretrainAlpha);
    readKey(json, "similarity", c.similarity);
    readKey(json, "neighbours", c.neighbours);
    readKey(json, "shrink", c.shrink);
    readKey(json, "attention_layers", c.attentionLayers);
    readKey(json, "activation", c.activation);
    readKey(json, "history_length", c.historyLength);
    readKey(json, "positive_rating", c.positiveRating);
    readKey(json, "protocol", c.protocol);
    readKey(json, "fold", c.fold);
    readKey(json, "eval_negatives", c.evalNegatives);
    readKey(json, "top_k", c.topK);
    readKey(json, "test_fraction", c.testFraction);
    readKey(json, "report_every_batches", c.reportEveryBatches);
    readKey(json, "validation_metric", c.validationMetric);
    readKey(json, "patience", c.patience);
    readKey(json, "validation_fraction", c.validationFraction);
    readKey(json, "duplicates", c.duplicates);
    return c;
}

} // namespace reclab
