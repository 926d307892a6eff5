#include "dist/RankGroup.h"

#include "util/Clock.h"

#if defined(RECLAB_HAVE_GLOO) || defined(RECLAB_HAVE_NCCL)
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef RECLAB_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef RECLAB_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace reclab {

namespace {

constexpr const char* kPulseKey = "pulse";

std::chrono::milliseconds millisecondsOf(double seconds)
{
    return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

std::string where(const World& w)
{
    return w.masterAddr + ":" + std::to_string(w.masterPort);
}

} // namespace

#if defined(RECLAB_HAVE_GLOO) || defined(RECLAB_HAVE_NCCL)

struct RankGroup::Impl {
    c10::intrusive_ptr<c10d::Store> store; // RecLab's keys
    World world;
#ifdef RECLAB_HAVE_GLOO
    c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#endif
#ifdef RECLAB_HAVE_NCCL
    c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif

    // A client (or, on rank 0 without torchrun's agent, the server) of the world's store.
    static c10::intrusive_ptr<c10d::Store> openStore(const World& w, bool host)
    {
        c10d::TCPStoreOptions options;
        options.port = static_cast<std::uint16_t>(w.masterPort);
        options.isServer = host;
        options.numWorkers = static_cast<std::size_t>(w.size);
        options.waitWorkers = false; // the arrival count below says who is missing
        options.timeout = millisecondsOf(w.timeoutSeconds);
        options.multiTenant = true;
        c10::intrusive_ptr<c10d::Store> tcp = c10::make_intrusive<c10d::TCPStore>(w.masterAddr, options);
        if (!w.storePrefix.empty())
            tcp = c10::make_intrusive<c10d::PrefixStore>(w.storePrefix, tcp);
        return c10::make_intrusive<c10d::PrefixStore>("reclab", tcp);
    }

    // The collective of whichever backend the group has.
    template <class Op> c10::intrusive_ptr<c10d::Work> run(Op op)
    {
#ifdef RECLAB_HAVE_NCCL
        if (nccl)
            return op(*nccl);
#endif
#ifdef RECLAB_HAVE_GLOO
        if (gloo)
            return op(*gloo);
#endif
        throw Error("the ranks' group is not formed yet (RankGroup::connect)");
    }
};

RankGroup::RankGroup(const World& world, std::function<std::string()> giveUp)
    : impl_(std::make_unique<Impl>()), world_(world), giveUp_(std::move(giveUp))
{
    impl_->world = world;
    const bool host = world.rank == 0 && !world.agentStore;
    try {
        impl_->store = Impl::openStore(world, host);
    } catch (const std::exception& e) {
        throw GroupBroken(world.describe() + " could not reach the ranks' meeting point " + where(world) + ": " +
                          oneLine(e.what()));
    }
    // Everyone counts in, then waits for the whole world: a missing rank is named by number.
    try {
        impl_->store->add("arrived", 1);
        const auto deadline = SteadyClock::now() + millisecondsOf(world.timeoutSeconds);
        int64_t arrived = 0;
        while ((arrived = impl_->store->add("arrived", 0)) < world.size) {
            if (giveUp_)
                if (const std::string why = giveUp_(); !why.empty())
                    throw GroupBroken(why);
            if (SteadyClock::now() > deadline)
                throw GroupBroken("only " + std::to_string(arrived) + " of " + std::to_string(world.size) +
                                  " ranks came to " + where(world) + " within " +
                                  std::to_string(int(world.timeoutSeconds)) + " s (RECLAB_DIST_TIMEOUT)");
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    } catch (const GroupBroken&) {
        throw;
    } catch (const std::exception& e) {
        throw GroupBroken(world.describe() + " lost the meeting point " + where(world) + ": " + oneLine(e.what()));
    }
}

void RankGroup::connect(bool cuda)
{
    const World& world = world_;
    const auto groupStore = c10::make_intrusive<c10d::PrefixStore>("group", impl_->store);
    try {
        if (cuda) {
#ifdef RECLAB_HAVE_NCCL
            auto options = c10d::ProcessGroupNCCL::Options::create();
            options->timeout = millisecondsOf(world.timeoutSeconds);
            impl_->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(groupStore, world.rank, world.size, options);
#else
            throw Error("this build has no NCCL: train on several processes on the CPU, or build against a CUDA "
                        "LibTorch that ships NCCL");
#endif
        } else {
#ifdef RECLAB_HAVE_GLOO
            auto options = c10d::ProcessGroupGloo::Options::create(millisecondsOf(world.timeoutSeconds));
            if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
                options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
            else if (world.masterAddr == "127.0.0.1" || world.masterAddr == "localhost")
                options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
            else
                options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
            options->threads = 1;
            impl_->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(groupStore, world.rank, world.size, options);
#else
            throw Error("this build has no Gloo: LibTorch's c10d headers or Debian's libgloo-dev were missing when it "
                        "was built");
#endif
        }
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw GroupBroken(world.describe() + " could not form the group at " + where(world) + ": " + oneLine(e.what()));
    }
}

RankGroup::~RankGroup() = default;

const char* RankGroup::backend() const
{
#ifdef RECLAB_HAVE_NCCL
    if (impl_->nccl)
        return "nccl";
#endif
    return "gloo";
}

namespace {

// Waits for a collective; its failure becomes GroupBroken, named.
void await(const c10::intrusive_ptr<c10d::Work>& work, const World& world, const char* what)
{
    try {
        work->wait();
    } catch (const std::exception& e) {
        throw GroupBroken("the training group broke during " + std::string(what) + " (" + world.describe() +
                          "): a rank ended or did not answer within " + std::to_string(int(world.timeoutSeconds)) +
                          " s: " + oneLine(e.what()));
    }
}

} // namespace

void RankGroup::allreduceSum(torch::Tensor& tensor)
{
    const auto start = SteadyClock::now();
    std::vector<torch::Tensor> tensors{tensor};
    await(impl_->run([&](auto& pg) { return pg.allreduce(tensors); }), world_, "a sum of gradients");
    const double bytes = static_cast<double>(tensor.numel() * tensor.element_size());
    tally_.bytesSent += 2.0 * (world_.size - 1) / world_.size * bytes; // ring: reduce-scatter, then all-gather
    tally_.seconds += secondsSince(start);
    ++tally_.collectives;
}

torch::Tensor RankGroup::allgather(const torch::Tensor& tensor)
{
    const auto start = SteadyClock::now();
    std::vector<torch::Tensor> inputs{tensor.contiguous()};
    std::vector<std::vector<torch::Tensor>> outputs(1);
    torch::Tensor gathered = torch::empty({world_.size, tensor.numel()}, tensor.options());
    for (int r = 0; r < world_.size; ++r)
        outputs[0].push_back(gathered[r].view(tensor.sizes()));
    await(impl_->run([&](auto& pg) { return pg.allgather(outputs, inputs); }), world_, "a gathering of gradient rows");
    tally_.bytesSent +=
        static_cast<double>(world_.size - 1) * static_cast<double>(tensor.numel() * tensor.element_size());
    tally_.seconds += secondsSince(start);
    ++tally_.collectives;
    auto sizes = tensor.sizes().vec();
    sizes.insert(sizes.begin(), world_.size);
    return gathered.view(sizes);
}

void RankGroup::broadcast(torch::Tensor& tensor, int root)
{
    const auto start = SteadyClock::now();
    std::vector<torch::Tensor> tensors{tensor};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    await(impl_->run([&](auto& pg) { return pg.broadcast(tensors, options); }), world_,
          "the sharing of rank 0's state");
    if (world_.rank == root)
        tally_.bytesSent += static_cast<double>(tensor.numel() * tensor.element_size());
    tally_.seconds += secondsSince(start);
    ++tally_.collectives;
}

void RankGroup::publish(const std::string& key, const std::string& value)
{
    try {
        impl_->store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
    } catch (const std::exception& e) {
        throw GroupBroken(world_.describe() + " lost the ranks' store at " + where(world_) + ": " + oneLine(e.what()));
    }
}

std::string RankGroup::fetch(const std::string& key)
{
    try {
        if (giveUp_) { // in short waits, asking between them
            const auto deadline = SteadyClock::now() + millisecondsOf(world_.timeoutSeconds);
            while (!impl_->store->check({key}) && SteadyClock::now() < deadline) {
                if (const std::string why = giveUp_(); !why.empty())
                    throw GroupBroken(why);
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
        const std::vector<uint8_t> value = impl_->store->get(key); // waits up to the store's timeout
        return std::string(value.begin(), value.end());
    } catch (const GroupBroken&) {
        throw;
    } catch (const std::exception& e) {
        throw GroupBroken(world_.describe() + " waited in vain for '" + key + "' at " + where(world_) +
                          " (rank 0 ended or did not answer within " + std::to_string(int(world_.timeoutSeconds)) +
                          " s): " + oneLine(e.what()));
    }
}

std::string RankGroup::fetchWhileRankZeroLives(const std::string& key)
{
    try {
        int64_t lastPulse = -1;
        auto lastChange = SteadyClock::now();
        while (!impl_->store->check({key})) {
            const int64_t pulse = impl_->store->add(kPulseKey, 0);
            if (pulse != lastPulse) {
                lastPulse = pulse;
                lastChange = SteadyClock::now();
            } else if (secondsSince(lastChange) > world_.timeoutSeconds) {
                throw GroupBroken("rank 0 stopped answering between epochs: no sign of it for " +
                                  std::to_string(int(world_.timeoutSeconds)) + " s (RECLAB_DIST_TIMEOUT)");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    } catch (const GroupBroken&) {
        throw;
    } catch (const std::exception& e) {
        throw GroupBroken(world_.describe() + " lost rank 0 between epochs (" + where(world_) +
                          "): " + oneLine(e.what()));
    }
    return fetch(key);
}

struct RankGroup::Pulse::State {
    std::mutex mutex;
    std::condition_variable wake;
    bool done = false;
    std::thread thread;
};

RankGroup::Pulse::Pulse(RankGroup& group) : state_(std::make_unique<State>())
{
    if (group.size() < 2)
        return;
    // Its own client: a store connection is not shared between threads.
    c10::intrusive_ptr<c10d::Store> store = Impl::openStore(group.world(), false);
    const auto every = millisecondsOf(std::max(0.05, group.world().timeoutSeconds / 10.0));
    State* s = state_.get();
    s->thread = std::thread([s, store, every] {
        std::unique_lock<std::mutex> lock(s->mutex);
        while (!s->done) {
            try {
                store->add(kPulseKey, 1);
            } catch (const std::exception&) {
                return; // the group is gone; the main thread finds out at its next collective
            }
            s->wake.wait_for(lock, every, [s] { return s->done; });
        }
    });
}

RankGroup::Pulse::~Pulse()
{
    if (!state_->thread.joinable())
        return;
    {
        const std::lock_guard<std::mutex> lock(state_->mutex);
        state_->done = true;
    }
    state_->wake.notify_all();
    state_->thread.join();
}

#else // no c10d backend in this build

struct RankGroup::Impl {};

RankGroup::RankGroup(const World& world, std::function<std::string()>) : world_(world)
{
    throw Error("this build of RecLab cannot train across processes: LibTorch's c10d with Gloo was not found when it "
                "was built (on Debian: apt-get install libgloo-dev, then build again)");
}
RankGroup::~RankGroup() = default;
void RankGroup::connect(bool) {}
const char* RankGroup::backend() const
{
    return "";
}
void RankGroup::allreduceSum(torch::Tensor&) {}
torch::Tensor RankGroup::allgather(const torch::Tensor& t)
{
    return t;
}
void RankGroup::broadcast(torch::Tensor&, int) {}
void RankGroup::publish(const std::string&, const std::string&) {}
std::string RankGroup::fetch(const std::string&)
{
    return {};
}
std::string RankGroup::fetchWhileRankZeroLives(const std::string&)
{
    return {};
}
struct RankGroup::Pulse::State {};
RankGroup::Pulse::Pulse(RankGroup&) {}
RankGroup::Pulse::~Pulse() = default;

#endif

} // namespace reclab
