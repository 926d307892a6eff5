#include "util/SerialIntraOp.h"

#include <ATen/Parallel.h>

#include <dlfcn.h>

namespace reclab {

SerialIntraOp::SerialIntraOp()
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

SerialIntraOp::~SerialIntraOp()
{
    if (set_ && before_ > 0)
        set_(before_);
}

} // namespace reclab
