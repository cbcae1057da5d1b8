// What ThreadSanitizer needs to be told. Everything here compiles to nothing
// in other builds.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define MULTIPROC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MULTIPROC_TSAN 1
#endif
#endif

#ifdef MULTIPROC_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace multiproc::sys {

// ThreadSanitizer starts a background thread of its own with the program's
// first thread; its fork interceptor takes the runtime's locks around fork,
// so that thread never makes a fork unsafe.
inline int sanitizer_threads(int threads) noexcept {
#ifdef MULTIPROC_TSAN
  return threads > 1 ? 1 : 0;
#else
  (void)threads;
  return 0;
#endif
}

// clang 14's ThreadSanitizer does not intercept pthread_mutex_clocklock:
// tell it about a lock taken that way, or it reports the unlock as a bug.
inline void tsan_pre_lock([[maybe_unused]] void* mutex) noexcept {
#ifdef MULTIPROC_TSAN
  __tsan_mutex_pre_lock(mutex, 0);
#endif
}
inline void tsan_post_lock([[maybe_unused]] void* mutex, [[maybe_unused]] bool locked) noexcept {
#ifdef MULTIPROC_TSAN
  __tsan_mutex_post_lock(mutex, locked ? 0 : __tsan_mutex_try_lock_failed, 0);
#endif
}

}  // namespace multiproc::sys
