// Process-wide settings for training, made at the start of main() and again by every
// Trainer::fit() (idempotent), so programs embedding the core get them too:
//   - the allocator: training allocates and frees tensors of a few MB thousands of times per
//     epoch. glibc's defaults hand each block above 128 KiB-32 MiB (its sliding threshold) to
//     mmap or trim the heap top beyond 128 KiB, so pages fault in again on every use: DIN's
//     epoch on ml-100k went through 1.0 million page faults. Blocks up to 32 MiB now stay on
//     the heap, which is trimmed only beyond 512 MiB of free space.
//   - BLAS threads: LibTorch runs its own intra-op threads, and OpenBLAS's pthread build starts
//     a spinning pool of one thread per core on top of them. On two cores the two pools fought
//     (DIN's epoch 3x slower), so OpenBLAS runs on the calling thread unless
//     OPENBLAS_NUM_THREADS says otherwise.
#pragma once

namespace reclab {

// Does its work once per process; a no-op where the allocator is not glibc's or the BLAS is not OpenBLAS.
void configureRuntime();

} // namespace reclab
