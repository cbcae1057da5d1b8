// The requester's side of a zygote (zygote.hpp): starts it, asks it for
// children, stops it. The forkserver is one process-wide instance (see
// forkserver.hpp); a Pool with the fork method has its own, forked when the
// pool starts, so that replacement workers never come from the (by then
// multi-threaded) parent. Thread-safe: requests are served one at a time.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "multiproc/exit_status.hpp"
#include "start/launched_child.hpp"
#include "sys/unique_fd.hpp"

namespace multiproc::detail {

class ZygoteClient {
 public:
  // `name` appears in errors; `lazy`: launch() may (re)start the zygote while
  // the process is single-threaded, else only start() starts it, once.
  ZygoteClient(std::string name, bool lazy);
  ~ZygoteClient();  // stop()
  ZygoteClient(const ZygoteClient&) = delete;
  ZygoteClient& operator=(const ZygoteClient&) = delete;

  // Forks the zygote now (no-op if running). UsageError when the process has
  // other threads (the message ends with the start hint); Error when the
  // zygote fails before serving.
  void start();
  // Forks the zygote and returns at once: its readiness is checked at the
  // first launch (so the caller can prepare children meanwhile).
  void start_async();
  void set_preload(void (*preload)()) noexcept;
  void set_start_hint(std::string hint);
  // A child of this process, forked by the zygote. Throws Error when the
  // zygote died (reaped first), SystemError when the fork failed.
  LaunchedChild launch(const LaunchRequest& request);
  // Several at once: every request is sent before the first reply is read.
  std::vector<LaunchedChild> launch_many(std::span<const LaunchRequest> requests);
  // The zygote's PID while it serves this process.
  std::optional<pid_t> pid();
  // Tells the zygote to end (it exits when its channel closes), without
  // waiting; stop() reaps it. No more children can start.
  void close_channel() noexcept;
  // Ends the zygote and reaps it (bounded: 1 s, then SIGKILL). A no-op in a
  // process that inherited this object (a fork or a zygote's child).
  void stop() noexcept;
  // Child side, right after fork, single-threaded: forgets the zygote (its
  // descriptors are already closed) and any lock held at the fork.
  void reset_after_fork() noexcept;

 private:
  void forget_if_inherited();
  void start_locked();
  void await_hello_locked();
  ExitStatus reap_locked(int grace_ms);
  [[noreturn]] void died(const char* when);

  const std::string name_;
  const bool lazy_;
  std::mutex mu_;
  std::string hint_ = "start it earlier";
  std::atomic<pid_t> owner_{::getpid()};  // another process (a fork) forgets the zygote
  pid_t zygote_ = 0;
  bool started_once_ = false;
  bool hello_pending_ = false;
  sys::UniqueFd pidfd_;
  sys::UniqueFd control_;
  void (*preload_)() = nullptr;
};

}  // namespace multiproc::detail
