#include "multiproc/wait.hpp"

#include <poll.h>

#include <cerrno>

#include "sys/deadline.hpp"

namespace multiproc {
namespace {

bool readable_now(int fd) {
  pollfd p{fd, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) throw SystemError("poll", errno);
  return r > 0;
}

// Registers as a poller on every queue for the duration of a wait, so that
// producers make the queue's eventfd readable when an item comes in.
class PollerGuard {
 public:
  explicit PollerGuard(std::span<detail::QueueCore* const> queues) : queues_(queues) {
    for (auto* q : queues_) q->add_poller();
  }
  ~PollerGuard() {
    for (auto* q : queues_) q->remove_poller();
  }
  PollerGuard(const PollerGuard&) = delete;
  PollerGuard& operator=(const PollerGuard&) = delete;

 private:
  std::span<detail::QueueCore* const> queues_;
};

}  // namespace

std::vector<std::size_t> wait(std::span<const WaitObject> objects,
                              std::optional<std::chrono::nanoseconds> timeout) {
  sys::Deadline deadline = timeout ? sys::Deadline::after(*timeout) : sys::Deadline::never();
  std::vector<detail::QueueCore*> queues;
  std::vector<pollfd> fds;
  for (const WaitObject& o : objects) {
    if (o.kind_ == WaitObject::Kind::queue) queues.push_back(o.queue_);
    int fd = o.kind_ == WaitObject::Kind::fd           ? o.fd_
             : o.kind_ == WaitObject::Kind::connection ? o.connection_->fd()
                                                       : o.queue_->eventfd();
    fds.push_back({fd, POLLIN, 0});
  }
  PollerGuard pollers(queues);

  for (;;) {
    // Ask each object itself: a readable descriptor is only a hint (a queue's
    // eventfd may be stale, a connection may hold a whole buffered message).
    std::vector<std::size_t> ready;
    for (std::size_t i = 0; i < objects.size(); ++i) {
      const WaitObject& o = objects[i];
      bool now = o.kind_ == WaitObject::Kind::fd           ? readable_now(o.fd_)
                 : o.kind_ == WaitObject::Kind::connection ? o.connection_->poll()
                                                           : o.queue_->ready();
      if (now) ready.push_back(i);
    }
    if (!ready.empty() || deadline.expired()) return ready;
    timespec ts;
    int r = ::ppoll(fds.data(), fds.size(), deadline.remaining(ts), nullptr);
    if (r < 0 && errno != EINTR) throw SystemError("ppoll", errno);
    if (r == 0) return {};
  }
}

}  // namespace multiproc
