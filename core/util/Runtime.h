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
//   - worker threads for evaluation: scoring every item for every user splits into slices
//     of users that are independent, so RecLab runs them on its own threads (one per core by
//     default, or the run's --threads). LibTorch's intra-op pool (OpenMP) is not used for
//     that: on the 2-core machines measured, the slice loop under at::parallel_for on two
//     threads was slower than on one, while two plain threads halved the time (NeuMF's full
//     ranking of ml-100k: 52 ms on one thread, 29 ms on two).
#pragma once

#include <cstdint>
#include <functional>

namespace reclab {

// Does its work once per process; a no-op where the allocator is not glibc's or the BLAS is not OpenBLAS.
void configureRuntime();

// Threads for the evaluation work the calling thread starts (0 restores the default: the
// hardware's cores). Per thread, so concurrent runs each keep their own.
void setEvaluationThreads(int threads);
int evaluationThreads();

// Runs f(begin, end) over [0, n) split into up to `threads` contiguous ranges, the first on the
// calling thread and the others on threads started once and kept (the caller takes any they
// have not reached), and waits for all; the first exception thrown is rethrown here.
void parallelRanges(int64_t n, int threads, const std::function<void(int64_t, int64_t)>& f);

} // namespace reclab
