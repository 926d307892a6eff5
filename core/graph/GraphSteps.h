// Inside the compiled graph: one step per block, in dependency order (private to core/graph).
#pragma once

#include "graph/GraphModule.h"

#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include <ATen/Parallel.h>

#include <string>
#include <vector>

#include <dlfcn.h>

namespace reclab {

enum class BlockOp {
    UserId, ItemId, History, ItemCategory, HistoryCategory, Dense,
    Embedding, Linear, Mlp, Unary, Product, Add, Dot, Concat, SumPool, MeanPool, Attention,
    ClickOutput, RatingOutput
};

// Where a value varies when every item is scored for a slice of users.
enum class Granularity { User, Item, Pair };

struct GraphModelImpl::Step {
    std::string id;
    BlockOp op = BlockOp::Unary;
    nlohmann::json params;
    std::vector<size_t> inputs; // the steps feeding each input port, in port order
    Granularity granularity = Granularity::Pair;
    // Embedding
    std::string table;
    bool bag = false;
    std::string regularizer = "none";
    double l2Scale = 1.0;
    // Layers: linear (Linear, the attention unit's first layer), sequential (MLP, the unit's
    // tail), unary (activations, batch norm, dropout).
    torch::nn::Linear linear{nullptr};
    torch::nn::Sequential sequential{nullptr};
    torch::nn::AnyModule unary;
    // Dense features: column k of the row is user feature (0, 1) or item feature (2 -> 0).
    std::vector<int> features;
    bool addGlobalMean = false;
};

// LibTorch's OpenMP pool is per calling thread (its thread count is the thread's own OpenMP
// setting): on an evaluation thread the ops of a slice run serially, as a slice is already one
// thread's share; the setting is restored afterwards (the first range runs on the caller).
class SerialIntraOp {
public:
    SerialIntraOp()
    {
        static const auto get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
        static const auto set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
        set_ = set;
        if (!get || !set)
            return;
        (void)at::get_num_threads(); // LibTorch sets a new thread's OpenMP count on first use
        before_ = get();
        set(1);
    }
    ~SerialIntraOp()
    {
        if (set_ && before_ > 0)
            set_(before_);
    }
    SerialIntraOp(const SerialIntraOp&) = delete;
    SerialIntraOp& operator=(const SerialIntraOp&) = delete;

private:
    void (*set_)(int) = nullptr;
    int before_ = 0;
};

// A layer for an activation name ("none": empty).
torch::nn::AnyModule activationModule(const std::string& name, int64_t channels);

} // namespace reclab
