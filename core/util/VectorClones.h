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
