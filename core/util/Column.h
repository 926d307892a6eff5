// Column<T>: the vector type of the interaction table's columns. Two differences from
// std::vector's default allocator, both for 25M-row tables: resize() does not zero the new
// elements (a loader overwrites them anyway), and large blocks are 2 MiB aligned and marked for
// transparent huge pages, so filling 500 MB takes a few hundred page faults instead of 120,000.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

namespace reclab {

template <typename T> struct ColumnAllocator {
    using value_type = T;
    static constexpr size_t kHuge = size_t{2} << 20;

    ColumnAllocator() noexcept = default;
    template <typename U> ColumnAllocator(const ColumnAllocator<U>&) noexcept {}

    T* allocate(size_t n)
    {
        const size_t bytes = n * sizeof(T);
        if (bytes < 2 * kHuge)
            return static_cast<T*>(::operator new(bytes));
        const size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
        void* p = std::aligned_alloc(kHuge, rounded);
        if (!p)
            throw std::bad_alloc();
        ::madvise(p, rounded, MADV_HUGEPAGE);
        return static_cast<T*>(p);
    }
    void deallocate(T* p, size_t n) noexcept
    {
        if (n * sizeof(T) < 2 * kHuge)
            ::operator delete(p);
        else
            std::free(p);
    }
    // Value-initialisation (resize, vector(n)) becomes default-initialisation: no zeroing.
    template <typename U> void construct(U* p) noexcept { ::new (static_cast<void*>(p)) U; }
    template <typename U, typename... Args> void construct(U* p, Args&&... args)
    {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
    template <typename U> bool operator==(const ColumnAllocator<U>&) const noexcept { return true; }
    template <typename U> bool operator!=(const ColumnAllocator<U>&) const noexcept { return false; }
};

template <typename T> using Column = std::vector<T, ColumnAllocator<T>>;

} // namespace reclab
