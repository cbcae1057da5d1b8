// Clang's thread-safety annotations (leveldb's port/thread_annotations.h):
// state says which lock guards it, functions which locks they need, and
// clang's -Wthread-safety (an error in the clang builds) checks every access.
// With other compilers they expand to nothing.
#pragma once

#if defined(__clang__)
#define MP_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define MP_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) MP_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY MP_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) MP_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) MP_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) MP_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) MP_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) MP_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define EXCLUDES(...) MP_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) MP_THREAD_ANNOTATION(assert_capability(x))
#define NO_THREAD_SAFETY_ANALYSIS MP_THREAD_ANNOTATION(no_thread_safety_analysis)
