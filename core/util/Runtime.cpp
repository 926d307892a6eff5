#include "util/Runtime.h"

#include <cstdlib> // also defines __GLIBC__ on glibc systems
#include <mutex>

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

} // namespace reclab
