#include "start/fork_launcher.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <thread>

#include "multiproc/error.hpp"
#include "signals/bridge_state.hpp"
#include "sys/proc_fs.hpp"
#include "sys/signal_block.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail {
namespace {

// Forks with every signal blocked, so that no handler of the parent runs in
// the child before run_child() has reset the dispositions.
pid_t fork_blocked(const ChildSetup& setup) noexcept {
  sys::BlockAllSignals blocked;
  pid_t pid = sys::fork_process();
  if (pid == 0) run_child(setup);
  return pid;
}

// A thread that lives until the process exits and runs one job at a time.
class LauncherThread {
 public:
  LauncherThread() {
    // The thread inherits this mask: no signal handler ever runs on it.
    sys::BlockAllSignals blocked;
    std::thread([this] { loop(); }).detach();
  }

  pid_t run(LaunchJob job, void* arg) {
    std::lock_guard caller(call_mu_);
    std::unique_lock lock(mu_);
    job_ = job;
    arg_ = arg;
    cv_.notify_all();
    cv_.wait(lock, [this] { return job_ == nullptr; });
    return result_;
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return job_ != nullptr; });
      LaunchJob job = job_;
      void* arg = arg_;
      lock.unlock();
      pid_t pid = job(arg);
      lock.lock();
      result_ = pid;
      job_ = nullptr;
      cv_.notify_all();
    }
  }

  std::mutex call_mu_;  // one caller at a time
  std::mutex mu_;
  std::condition_variable cv_;
  LaunchJob job_ = nullptr;
  void* arg_ = nullptr;
  pid_t result_ = 0;

 public:
  LauncherThread* forgotten_next = nullptr;
};

// Never destroyed: the thread runs until the process exits. Forgotten in a
// child, which does not have the thread.
std::atomic<LauncherThread*> g_launcher{nullptr};
std::mutex g_launcher_mu;
LauncherThread* g_forgotten_launchers = nullptr;  // inherited, kept reachable, unused

LauncherThread& launcher() {
  std::lock_guard lock(g_launcher_mu);
  LauncherThread* l = g_launcher.load();
  if (l == nullptr) {
    l = new LauncherThread;
    g_launcher.store(l);
  }
  return *l;
}

}  // namespace

void forget_launcher_after_fork() noexcept {
  LauncherThread* inherited = g_launcher.exchange(nullptr);
  if (inherited != nullptr) {
    inherited->forgotten_next = g_forgotten_launchers;
    g_forgotten_launchers = inherited;
  }
  new (&g_launcher_mu) std::mutex;  // another thread may have held it at the fork
}

namespace {

int count_unsafe_threads() {
  int threads = sys::proc::thread_count();
  if (threads < 0) throw SystemError("counting threads in /proc/self/stat", -threads);
  // The launcher thread and the signal bridge's do not count: each waits
  // holding no lock (a condition variable, a pipe) and the child forgets it.
  // Any other thread does.
  if (g_launcher.load() != nullptr) --threads;
  return threads - quiet_bridge_threads();
}

}  // namespace

int threads_unsafe_for_fork() {
  int threads = count_unsafe_threads();
  // A thread that std::thread::join() has just ended is still counted by
  // the kernel for a moment (join returns once the thread cleared its TID,
  // before the kernel releases it): a Pool made right after another one was
  // joined saw its manager thread. Before refusing, give such a thread up
  // to ~1 ms to go.
  for (int i = 0; i < 100 && threads > 1; ++i) {
    std::this_thread::yield();
    threads = count_unsafe_threads();
  }
  return threads;
}

pid_t fork_child(const ChildSetup& setup, bool allow_threads) {
  if (!allow_threads) {
    int threads = threads_unsafe_for_fork();
    if (threads > 1) throw ForkUnsafeError(threads);
  }
  // Unwritten stdio buffers would otherwise be written by both processes.
  (void)std::fflush(nullptr);

  pid_t pid = launch_from_long_lived_thread(
      [](void* s) { return fork_blocked(*static_cast<const ChildSetup*>(s)); },
      const_cast<ChildSetup*>(&setup));
  if (pid < 0) throw SystemError("fork", -pid);
  return pid;
}

pid_t launch_from_long_lived_thread(LaunchJob job, void* arg) {
  bool main_thread = sys::current_tid() == ::getpid();
  return main_thread ? job(arg) : launcher().run(job, arg);
}

}  // namespace multiproc::detail
