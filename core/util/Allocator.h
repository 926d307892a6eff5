// Process-wide allocator policy. Training and full-ranking evaluation allocate and free
// tensors of a few MB thousands of times; with glibc's defaults each such block is a fresh
// mmap whose pages fault in again every time, which on a VM cost more than the arithmetic
// (NeuMF's full ranking of ml-100k: 1.1 s before, 0.13 s after).
#pragma once

namespace reclab {

// Keeps blocks up to 32 MiB on the heap and returns free heap to the system only beyond
// 128 MiB. Call once at the start of main(); a no-op outside glibc.
void configureAllocator();

} // namespace reclab
