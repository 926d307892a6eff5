#include "runs/TrainConfig.h"

#include "runs/Metrics.h"
#include "runs/Protocols.h"
#include "runs/TrainFields.h"
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
    for (const auto& field : trainFields())
        checkField(*this, field);
    // Rules between fields.
    if (momentum != 0 && optimizer != "sgd")
        throw ConfigError("momentum", "applies to the sgd optimizer only");
    if (labelSmoothing != 0 && loss != "ce")
        throw ConfigError("label-smoothing", "applies to the cross-entropy loss (--loss ce) only");
    if (customGraph() && !graph.is_object())
        throw ConfigError("graph", "model 'graph' needs a graph (reclab-cli train --graph FILE)");
    if (device != "cpu" && device.rfind("cuda", 0) != 0)
        throw ConfigError("device", "expected cpu, cuda or cuda:N, got '" + device + "'");
    if (!validationMetric.empty() && !(validationFraction + testFraction < 1))
        throw ConfigError("validation-fraction", "expected a number that leaves training data beside "
                                                 "the test fraction");
}

std::string TrainConfig::validationKey() const
{
    if (validationMetric.empty() || validationMetric.find('@') != std::string::npos)
        return validationMetric;
    // "ndcg" and "full_ndcg" (the common protocol's ranking against every unseen item) are at K.
    const std::string atK = validationMetric + "@" + std::to_string(topK);
    if (const MetricTraits* m = metricTraits(atK); m && m->accuracy)
        return atK;
    return validationMetric;
}

nlohmann::json TrainConfig::toJson() const
{
    nlohmann::json out = nlohmann::json::object();
    for (const auto& field : trainFields())
        std::visit([&](auto member) { out[field.key] = this->*member; }, field.member);
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
    for (const auto& field : trainFields())
        std::visit([&](auto member) { readKey(json, field.key, c.*member); }, field.member);
    if (const auto it = json.find("graph"); it != json.end())
        c.graph = *it;
    return c;
}

} // namespace reclab
