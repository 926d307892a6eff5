#include "util/Runtime.h"

#include <cstdlib> // also defines __GLIBC__ on glibc systems
#include <algorithm>
#include <atomic>
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

void parallelRanges(int64_t n, int threads, const std::function<void(int64_t, int64_t)>& f)
{
    const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(threads, n));
    if (parts == 1) {
        if (n > 0)
            f(0, n);
        return;
    }
    std::vector<std::exception_ptr> errors(static_cast<size_t>(parts));
    auto run = [&](int64_t k) {
        try {
            f(n * k / parts, n * (k + 1) / parts);
        } catch (...) {
            errors[static_cast<size_t>(k)] = std::current_exception();
        }
    };
    std::vector<std::thread> others;
    for (int64_t k = 1; k < parts; ++k)
        others.emplace_back(run, k);
    run(0);
    for (auto& t : others)
        t.join();
    for (const auto& e : errors)
        if (e)
            std::rethrow_exception(e);
}

} // namespace reclab
