// multiproc/wait.hpp — wait for the first of several things to be ready.
//
//   auto ready = mp::wait({worker, results_conn, jobs_queue}, 5s);
//   for (std::size_t i : ready) { /* objects[i] is ready */ }
//
// Ready means: a Process has ended (its sentinel is readable); a Connection
// has a message or its other end is gone (recv will not block); a Queue holds
// an item (another consumer may still take it first, as in Python); a raw
// descriptor is readable. Returns the indices of the ready objects, in input
// order; an empty result means the timeout passed. No timeout: waits
// without limit.
//
// Thread safety: wait() may run in several threads at once; the objects must
// outlive the call. Not async-signal-safe.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <vector>

#include "multiproc/connection.hpp"
#include "multiproc/process.hpp"
#include "multiproc/queue.hpp"
#include "multiproc/stop.hpp"

namespace multiproc {

class WaitObject {
 public:
  WaitObject(const Process& process) : kind_(Kind::fd), fd_(process.sentinel()) {}
  WaitObject(Connection& connection) : kind_(Kind::connection), connection_(&connection) {}
  template <class T>
  WaitObject(const Queue<T>& queue) : kind_(Kind::queue), queue_(&queue.core()) {}
  // Any descriptor, ready when readable.
  static WaitObject fd(int fd) { return WaitObject(fd); }

 private:
  explicit WaitObject(int fd) : kind_(Kind::fd), fd_(fd) {}
  friend std::vector<std::size_t> wait(std::span<const WaitObject>,
                                       std::optional<std::chrono::nanoseconds>);
  enum class Kind { fd, connection, queue };
  Kind kind_;
  int fd_ = -1;
  Connection* connection_ = nullptr;
  detail::QueueCore* queue_ = nullptr;
};

std::vector<std::size_t> wait(std::span<const WaitObject> objects,
                              std::optional<std::chrono::nanoseconds> timeout = std::nullopt);

inline std::vector<std::size_t> wait(
    std::initializer_list<WaitObject> objects,
    std::optional<std::chrono::nanoseconds> timeout = std::nullopt) {
  return wait(std::span<const WaitObject>(objects.begin(), objects.size()), timeout);
}

// Waits until at least one object is ready; Interrupted when `stop` is
// requested first.
inline std::vector<std::size_t> wait(std::span<const WaitObject> objects, std::stop_token stop) {
  std::vector<std::size_t> ready;
  detail::until_stopped(stop, "wait", [&](auto slice) {
    ready = wait(objects, std::optional<std::chrono::nanoseconds>(slice));
    return !ready.empty();
  });
  return ready;
}
inline std::vector<std::size_t> wait(std::initializer_list<WaitObject> objects,
                                     std::stop_token stop) {
  return wait(std::span<const WaitObject>(objects.begin(), objects.size()), std::move(stop));
}

}  // namespace multiproc
