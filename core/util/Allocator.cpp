#include "util/Allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace reclab {

void configureAllocator()
{
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}

} // namespace reclab
