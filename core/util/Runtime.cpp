#include "util/Runtime.h"

#include <cstdlib> // also defines __GLIBC__ on glibc systems
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__GLIBC__)
#include <dlfcn.h>
#include <malloc.h>
#endif

namespace reclab {

void configureRuntime()
{
    static std::once_flag once; // main() and every Trainer::fit() call it; the work is done once
    std::call_once(once, [] {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    // Looked up at run time: the BLAS behind LibTorch is whatever the system provides.
    if (!std::getenv("OPENBLAS_NUM_THREADS"))
        if (void* symbol = dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))
            reinterpret_cast<void (*)(int)>(symbol)(1);
#endif
    });
}

namespace {

// Per thread: every training run evaluates on its own worker thread with its own setting.
thread_local int evaluationThreadCount = 0;

} // namespace

void setEvaluationThreads(int threads)
{
    evaluationThreadCount = std::max(0, threads);
}

int evaluationThreads()
{
    const int n = evaluationThreadCount;
    return n > 0 ? n : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

namespace {

// The threads behind parallelRanges, started once and kept. A thread's first LibTorch op
// initialises LibTorch's per-thread settings through at::set_num_threads, which also rebuilds
// the process-wide pthreadpool of its QNNPACK backend with new threads; with a fresh thread per
// call, every call did that, and the new pool's threads spun beside the work (DIN's
// recommendations on two cores: 33 ms instead of 19).
class RangePool {
public:
    static RangePool& instance()
    {
        static RangePool* pool = new RangePool; // never destroyed: idle threads end with the process
        return *pool;
    }

    // Runs range(k) for k in [0, parts), range 0 and any unclaimed ones on the caller, and waits.
    void run(int64_t parts, const std::function<void(int64_t)>& range)
    {
        auto job = std::make_shared<Job>(parts, range);
        {
            std::lock_guard lock(mutex_);
            while (static_cast<int64_t>(threads_.size()) < parts - 1)
                threads_.emplace_back([this] { work(); });
            jobs_.push_back(job);
            queued_.store(static_cast<int64_t>(jobs_.size()), std::memory_order_release);
        }
        wake_.notify_all();
        // The caller claims ranges too, so a call never waits on busy pool threads (nor deadlocks
        // when nested in another call's range).
        job->runOne(0);
        for (int64_t k = job->next++; k < parts; k = job->next++)
            job->runOne(k);
        spinWhile([&] { return job->done.load(std::memory_order_acquire) < parts; });
        std::unique_lock lock(job->mutex);
        job->finished.wait(lock, [&] { return job->done.load() == parts; });
        for (const auto& e : job->errors)
            if (e)
                std::rethrow_exception(e);
    }

private:
    struct Job {
        Job(int64_t n, const std::function<void(int64_t)>& f) : parts(n), range(f), errors(static_cast<size_t>(n)) {}
        const int64_t parts;
        const std::function<void(int64_t)>& range;
        std::vector<std::exception_ptr> errors;
        std::atomic<int64_t> next{1};
        std::atomic<int64_t> done{0};
        std::mutex mutex;
        std::condition_variable finished;

        void runOne(int64_t k)
        {
            try {
                range(k);
            } catch (...) {
                errors[static_cast<size_t>(k)] = std::current_exception();
            }
            if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == parts) {
                std::lock_guard lock(mutex);
                finished.notify_all();
            }
        }
    };

    // Waits up to 100 µs while busy() holds before a thread goes to sleep: the phases of one
    // computation (DIN's fused unit runs six per batch) follow each other within microseconds,
    // and a sleeping thread took 40-500 µs to wake on the VMs measured, idling the other core.
    template <class Busy> static void spinWhile(Busy busy)
    {
        const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
        while (busy() && std::chrono::steady_clock::now() < until) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#else
            std::this_thread::yield();
#endif
        }
    }

    void work()
    {
        std::unique_lock lock(mutex_);
        for (;;) {
            if (jobs_.empty()) {
                lock.unlock();
                spinWhile([&] { return queued_.load(std::memory_order_acquire) == 0; });
                lock.lock();
            }
            wake_.wait(lock, [&] { return !jobs_.empty(); });
            const std::shared_ptr<Job> job = jobs_.front();
            const int64_t k = job->next++;
            if (k >= job->parts) { // every range claimed: the job leaves the queue
                if (!jobs_.empty() && jobs_.front() == job)
                    jobs_.pop_front();
                queued_.store(static_cast<int64_t>(jobs_.size()), std::memory_order_release);
                continue;
            }
            lock.unlock();
            job->runOne(k);
            lock.lock();
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::shared_ptr<Job>> jobs_;
    std::atomic<int64_t> queued_{0}; // jobs_.size(), for spinning without the lock
    std::vector<std::thread> threads_;
};

} // namespace

void parallelRanges(int64_t n, int threads, const std::function<void(int64_t, int64_t)>& f)
{
    const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(threads, n));
    if (parts == 1) {
        if (n > 0)
            f(0, n);
        return;
    }
    RangePool::instance().run(parts, [&](int64_t k) { f(n * k / parts, n * (k + 1) / parts); });
}

} // namespace reclab
