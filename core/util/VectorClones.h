// RECLAB_CLONES_FOR("avx2"): GCC compiles the function twice, for the baseline x86-64 the build
// targets and for the named target, and picks the copy at load time (target_clones). Empty
// elsewhere, and under ThreadSanitizer: the clone's resolver runs while the program is
// relocated, before the sanitizer's runtime is up, and its instrumented entry crashes the
// process at load.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define RECLAB_CLONES_FOR(target) __attribute__((target_clones(target, "default")))
#else
#define RECLAB_CLONES_FOR(target)
#endif

// Copies for AVX-512 (x86-64-v4: F, BW, DQ, VL) and for AVX2 with FMA (x86-64-v3), chosen by
// the CPU's features. ("arch=haswell" builds the AVX2 code too, but its resolver asks whether
// the CPU *is* a Haswell, so every other CPU, AMD's included, ran the baseline copy.) The
// AVX-512 copy halves the time of an exp-bound loop such as Dice's on the Zen 5 machine this
// project measures on (0.53 → 0.29 ns per element).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define RECLAB_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RECLAB_SIMD_CLONES
#endif
