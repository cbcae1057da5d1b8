#include "multiproc/listener.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <string>
#include <utility>

#include "ipc/authenticate.hpp"
#include "ipc/socket_address.hpp"
#include "multiproc/error.hpp"
#include "sys/deadline.hpp"
#include "sys/syscall.hpp"
#include "sys/unique_fd.hpp"

namespace multiproc {
namespace {

// A fresh abstract name: this process, a counter, and the clock.
UnixAddress fresh_abstract_name() {
  static std::atomic<unsigned> counter{0};
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return UnixAddress{std::string(1, '\0') + "multiproc-listener-" + std::to_string(::getpid()) +
                     "-" + std::to_string(++counter) + "-" + std::to_string(now)};
}

bool is_path(const Address& a) {
  const auto* u = std::get_if<UnixAddress>(&a);
  return u != nullptr && !u->path.empty() && u->path[0] != '\0';
}

// Waits until `fd` is readable; false when `deadline` passes first.
bool wait_readable(int fd, const sys::Deadline& deadline, const char* operation) {
  for (;;) {
    timespec ts;
    int r = sys::poll_one(fd, POLLIN, deadline.remaining(ts));
    if (r > 0) return true;
    if (r == 0) return false;
    if (r != -EINTR) throw SystemError(std::string(operation) + ": poll", -r);
  }
}

// Connects `fd` to `sa`, giving up after `timeout`. A Unix socket's connect
// waits for room in the listener's backlog, bounded by SO_SNDTIMEO; a TCP
// connect is made non-blocking and waited for with poll.
void connect_within(int fd, const detail::SocketAddress& sa, std::chrono::nanoseconds timeout,
                    const Address& address) {
  const std::string where = to_string(address);
  if (sa.family == AF_UNIX) {
    auto capped = std::min(timeout, std::chrono::nanoseconds(std::chrono::hours(24)));
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(capped).count();
    timeval tv{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
    if (tv.tv_sec == 0 && tv.tv_usec == 0) tv.tv_usec = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int r;
    do {
      r = ::connect(fd, sa.get(), sa.length);
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
      if (errno == EAGAIN || errno == EINPROGRESS) {
        throw TimeoutError("Client: connecting to " + where + " timed out (backlog full)");
      }
      throw SystemError("Client: connect to " + where, errno);
    }
    timeval none{};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
    return;
  }
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  if (::connect(fd, sa.get(), sa.length) != 0) {
    if (errno != EINPROGRESS) throw SystemError("Client: connect to " + where, errno);
    sys::Deadline deadline = sys::Deadline::after(timeout);
    for (;;) {
      timespec ts;
      int r = sys::poll_one(fd, POLLOUT, deadline.remaining(ts));
      if (r > 0) break;
      if (r == 0) throw TimeoutError("Client: connecting to " + where + " timed out");
      if (r != -EINTR) throw SystemError("Client: poll", -r);
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) throw SystemError("Client: connect to " + where, err);
  }
  ::fcntl(fd, F_SETFL, flags);
}

}  // namespace

Listener::Listener(ListenerOptions options) : Listener(fresh_abstract_name(), std::move(options)) {}

Listener::Listener(Address address, ListenerOptions options)
    : address_(std::move(address)), options_(std::move(options)) {
  if (options_.backlog < 1) {
    throw UsageError("Listener: backlog must be at least 1, not " +
                     std::to_string(options_.backlog));
  }
  if (options_.handshake_timeout <= std::chrono::nanoseconds::zero()) {
    throw UsageError("Listener: handshake_timeout must be positive");
  }
  detail::SocketAddress sa = detail::to_sockaddr(address_, "Listener");
  sys::UniqueFd s(::socket(sa.family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) throw SystemError("Listener: socket", errno);
  if (sa.family == AF_INET) {
    int one = 1;
    ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  if (::bind(s.get(), sa.get(), sa.length) != 0) {
    throw SystemError("Listener: bind to " + to_string(address_), errno);
  }
  if (is_path(address_)) {
    struct stat st {};
    if (::stat(std::get<UnixAddress>(address_).path.c_str(), &st) == 0) {
      file_dev_ = st.st_dev;
      file_ino_ = st.st_ino;
      owns_file_ = true;
    }
  }
  if (::listen(s.get(), options_.backlog) != 0) {
    int err = errno;
    fd_ = s.release();
    close();  // removes the file bound above
    throw SystemError("Listener: listen on " + to_string(address_), err);
  }
  address_ = detail::bound_address(s.get(), address_);
  fd_ = s.release();
}

Listener::~Listener() {
  close();
}

Listener::Listener(Listener&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      address_(std::move(o.address_)),
      options_(std::move(o.options_)),
      file_dev_(o.file_dev_),
      file_ino_(o.file_ino_),
      owns_file_(std::exchange(o.owns_file_, false)) {}

Listener& Listener::operator=(Listener&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
    address_ = std::move(o.address_);
    options_ = std::move(o.options_);
    file_dev_ = o.file_dev_;
    file_ino_ = o.file_ino_;
    owns_file_ = std::exchange(o.owns_file_, false);
  }
  return *this;
}

void Listener::close() noexcept {
  if (fd_ >= 0) sys::close_fd(fd_);
  fd_ = -1;
  if (owns_file_) {
    // Only the file this Listener made: another may have replaced it since.
    const std::string& path = std::get<UnixAddress>(address_).path;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && st.st_dev == file_dev_ && st.st_ino == file_ino_) {
      ::unlink(path.c_str());
    }
    owns_file_ = false;
  }
}

Connection Listener::accept() {
  return *accept(std::chrono::nanoseconds::max());
}

std::optional<Connection> Listener::accept(std::chrono::nanoseconds timeout) {
  if (fd_ < 0) throw UsageError("Listener::accept: the listener is closed");
  sys::Deadline deadline = sys::Deadline::after(timeout);
  for (;;) {
    if (!wait_readable(fd_, deadline, "Listener::accept")) return std::nullopt;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) return handshake(c);
    // The client may have gone between poll and accept: wait again.
    if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
    throw SystemError("Listener::accept", errno);
  }
}

Connection Listener::accept(std::stop_token stop) {
  std::optional<Connection> c;
  detail::until_stopped(stop, "Listener::accept", [&](auto slice) {
    c = accept(slice);
    return c.has_value();
  });
  return std::move(*c);
}

Connection Listener::handshake(int fd) {
  sys::UniqueFd owned(fd);
  Connection c = Connection::from_fd(owned.get());
  owned.release();
  if (options_.authkey) {
    detail::authenticate_as_server(c, *options_.authkey,
                                   sys::Deadline::after(options_.handshake_timeout));
  }
  return c;
}

Connection Client(const Address& address, ClientOptions options) {
  if (options.timeout <= std::chrono::nanoseconds::zero()) {
    throw UsageError("Client: timeout must be positive");
  }
  detail::SocketAddress sa = detail::to_sockaddr(address, "Client");
  sys::UniqueFd s(::socket(sa.family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) throw SystemError("Client: socket", errno);
  connect_within(s.get(), sa, options.timeout, address);
  Connection c = Connection::from_fd(s.get());
  s.release();
  if (options.authkey) {
    detail::authenticate_as_client(c, *options.authkey, sys::Deadline::after(options.timeout));
  }
  return c;
}

}  // namespace multiproc
