#include "multiproc/connection.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "ipc/frame.hpp"
#include "sys/deadline.hpp"
#include "sys/syscall.hpp"

namespace multiproc {
namespace {

using Clock = std::chrono::steady_clock;

// The kernel moves at most this much per read or write call.
constexpr std::size_t kMaxIo = 0x7ffff000;

sys::Deadline to_deadline(const Clock::time_point* at) {
  if (at == nullptr) return sys::Deadline::never();
  return sys::Deadline::after(std::max(*at - Clock::now(), Clock::duration::zero()));
}

// The most descriptors one message may carry (the kernel's SCM_MAX_FD).
constexpr std::size_t kMaxFdsPerMessage = 253;

// recv(2) that also collects descriptors passed with the bytes (SCM_RIGHTS,
// close-on-exec) into `fds`. Returns bytes read, or -1 with errno.
long recv_with_fds(int fd, std::byte* dst, std::size_t max, int flags, std::vector<int>& fds) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  iovec iov{dst, std::min(max, kMaxIo)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  long n = ::recvmsg(fd, &msg, flags | MSG_CMSG_CLOEXEC);
  if (n < 0) return n;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int received;
      std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds.push_back(received);
    }
  }
  return n;
}

// Bytes from the socket, waiting up to the deadline for each read.
class SocketSource : public detail::ByteSource {
 public:
  SocketSource(int fd, const Clock::time_point* deadline, std::vector<int>& fds)
      : fd_(fd), deadline_(deadline), fds_(fds) {}

  std::size_t read(std::byte* dst, std::size_t max) override {
    if (long n = read_spinning(dst, max); n >= 0) return static_cast<std::size_t>(n);
    for (;;) {
      if (deadline_ != nullptr) wait_readable();
      long n = recv_with_fds(fd_, dst, max, 0, fds_);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      // A peer that closed with data unread in its queue resets the stream.
      if (errno == ECONNRESET) return 0;
      throw SystemError("read from a connection", errno);
    }
  }

 private:
  void wait_readable() {
    sys::Deadline d = to_deadline(deadline_);
    for (;;) {
      timespec ts;
      int r = sys::poll_one(fd_, POLLIN, d.remaining(ts));
      if (r > 0) return;
      if (r == 0)
        throw TimeoutError("multiproc: a message began to arrive but was not complete in time");
      if (r != -EINTR) throw SystemError("poll on a connection", -r);
    }
  }

  // A reply often comes within microseconds; sleeping and being woken costs
  // more than that (a cross-CPU wake-up here is ~15 us each way). So first
  // try a few non-blocking reads, yielding in between so that a peer sharing
  // this CPU can run. Returns -1 if nothing came within the window.
  long read_spinning(std::byte* dst, std::size_t max) {
    auto until = Clock::now() + kSpinWindow;
    do {
      long n = recv_with_fds(fd_, dst, max, MSG_DONTWAIT, fds_);
      if (n >= 0) return n;
      if (errno != EAGAIN && errno != EINTR) return errno == ECONNRESET ? 0 : -1;
      sched_yield();
    } while (Clock::now() < until);
    return -1;
  }

  static constexpr auto kSpinWindow = std::chrono::microseconds(20);
  int fd_;
  const Clock::time_point* deadline_;
  std::vector<int>& fds_;
};

}  // namespace

BufferTooShort::BufferTooShort(std::size_t needed, std::size_t available,
                               std::shared_ptr<Bytes> message)
    : Error("multiproc: message of " + std::to_string(needed) +
            " bytes does not fit in a buffer of " + std::to_string(available) + " bytes"),
      message_(std::move(message)) {}

Connection::Connection() noexcept = default;

Connection::Connection(int fd, bool readable, bool writable) noexcept
    : fd_(fd), fd_check_(fd), readable_(readable), writable_(writable) {}

Connection Connection::from_fd(int fd, bool readable, bool writable) {
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
    throw UsageError("Connection::from_fd: descriptor " + std::to_string(fd) +
                     " is not a stream socket");
  }
  return Connection(fd, readable, writable);
}

Connection::~Connection() {
  close();
}

Connection::Connection(Connection&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      fd_check_(o.fd_check_),
      readable_(std::exchange(o.readable_, false)),
      writable_(std::exchange(o.writable_, false)),
      max_message_(o.max_message_),
      reader_(std::move(o.reader_)),
      large_(std::move(o.large_)),
      pending_fds_(std::move(o.pending_fds_)) {}

Connection& Connection::operator=(Connection&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
    fd_check_ = o.fd_check_;
    readable_ = std::exchange(o.readable_, false);
    writable_ = std::exchange(o.writable_, false);
    max_message_ = o.max_message_;
    reader_ = std::move(o.reader_);
    large_ = std::move(o.large_);
    pending_fds_ = std::move(o.pending_fds_);
  }
  return *this;
}

void Connection::close() noexcept {
  // In a forked child that was not given this Connection, the number is not ours.
  if (fd_ >= 0 && fd_check_.valid(fd_)) sys::close_fd(fd_);
  fd_ = -1;
  readable_ = writable_ = false;
  reader_.reset();
  large_ = Bytes();
  close_pending_fds();
}

void Connection::close_pending_fds() noexcept {
  close_all(pending_fds_);
}

void Connection::close_all(std::vector<int>& fds) noexcept {
  for (int fd : fds) sys::close_fd(fd);
  fds.clear();
}

void Connection::set_max_message(std::uint64_t bytes) noexcept {
  max_message_ = bytes;
  if (reader_) reader_->set_max_message(bytes);
}

void Connection::require(bool ok, const char* operation) const {
  if (fd_ < 0) throw UsageError(std::string(operation) + ": the connection is closed");
  if (!fd_check_.valid(fd_)) {
    throw UsageError(std::string(operation) +
                     ": this process does not have the connection's socket (it was captured, not "
                     "passed to the Process); pass the Connection as a Process argument");
  }
  if (!ok) throw UsageError(std::string(operation) + ": this end of the pipe does not allow it");
}

void Connection::send_frame(std::uint32_t tag, std::span<const std::byte> payload,
                            std::span<const int> fds) {
  require(writable_, "send");
  if (!fds.empty()) {
    int domain = 0;
    socklen_t len = sizeof domain;
    if (::getsockopt(fd_, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_UNIX) {
      throw UsageError(
          "Connection::send: descriptors (send_handle, a shared object) can only cross a Unix "
          "socket; this "
          "connection is TCP");
    }
  }
  if (fds.size() > kMaxFdsPerMessage) {
    throw UsageError("Connection::send: a message can carry at most " +
                     std::to_string(kMaxFdsPerMessage) + " descriptors, not " +
                     std::to_string(fds.size()));
  }
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  detail::FrameHeader header{detail::kFrameMagic, tag, payload.size()};
  iovec iov[2] = {{&header, sizeof header},
                  {const_cast<std::byte*>(payload.data()), payload.size()}};
  std::size_t first = 0;
  std::size_t left = sizeof header + payload.size();
  while (left > 0) {
    msghdr msg{};
    msg.msg_iov = iov + first;
    msg.msg_iovlen = 2 - first;
    if (!fds.empty()) {  // the descriptors ride with the first bytes sent
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      // The first header is at the start of `control` (CMSG_FIRSTHDR, without
      // its null case, which cannot happen here).
      auto* c = reinterpret_cast<cmsghdr*>(control);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    // MSG_NOSIGNAL: a vanished peer is EPIPE, never SIGPIPE.
    long n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE || errno == ECONNRESET) {
        throw BrokenPipeError("multiproc: send: the other end of the connection is closed");
      }
      throw SystemError("send on a connection", errno);
    }
    auto sent = static_cast<std::size_t>(n);
    fds = {};  // sent with these bytes
    left -= sent;
    while (sent > 0) {  // advance the iovecs past what was sent
      std::size_t step = std::min(sent, iov[first].iov_len);
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + step;
      iov[first].iov_len -= step;
      sent -= step;
      if (iov[first].iov_len == 0 && first < 1) ++first;
    }
  }
}

detail::Frame Connection::recv_frame(const Clock::time_point* deadline) {
  require(readable_, "recv");
  if (!reader_) reader_ = std::make_unique<detail::FrameReader>(max_message_);
  SocketSource source(fd_, deadline, pending_fds_);
  detail::Frame f = reader_->read(source, large_);
  if (pending_fds_.size() > kMaxPendingFds) {
    close_pending_fds();
    throw ProtocolError("multiproc: recv: the peer sent more than " +
                        std::to_string(kMaxPendingFds) + " descriptors no message claims");
  }
  return f;
}

void Connection::send_object(const detail::WireWriter& w) {
  std::string payload(sizeof(std::uint32_t), '\0');
  auto count = static_cast<std::uint32_t>(w.fds().size());
  std::memcpy(payload.data(), &count, sizeof count);
  payload += const_cast<detail::WireWriter&>(w).data();
  send_frame(kObjectTag, std::as_bytes(std::span(payload)), w.fds());
}

std::vector<int> Connection::take_fds(std::size_t n) {
  if (pending_fds_.size() < n) {
    throw ProtocolError("multiproc: recv: the message announces " + std::to_string(n) +
                        " descriptors, " + std::to_string(pending_fds_.size()) + " came with it");
  }
  std::vector<int> out(pending_fds_.begin(), pending_fds_.begin() + static_cast<long>(n));
  pending_fds_.erase(pending_fds_.begin(), pending_fds_.begin() + static_cast<long>(n));
  return out;
}

std::vector<int> Connection::take_object_fds(const detail::Frame& frame) {
  std::uint32_t count = 0;
  if (frame.payload.size() < sizeof count) {
    throw DecodeError("multiproc: recv: a shared object's message is truncated");
  }
  std::memcpy(&count, frame.payload.data(), sizeof count);
  if (count > kMaxFdsPerMessage) {
    throw DecodeError("multiproc: recv: a shared object announces " + std::to_string(count) +
                      " descriptors");
  }
  return take_fds(count);
}

void Connection::send_handle(int fd) {
  if (::fcntl(fd, F_GETFD) < 0) {
    throw UsageError("Connection::send_handle: descriptor " + std::to_string(fd) + " is not open");
  }
  send_frame(kHandleTag, {}, std::span(&fd, 1));
}

int Connection::recv_handle() {
  detail::Frame f = recv_frame(nullptr);
  if (f.tag != kHandleTag || !f.payload.empty()) {
    throw ProtocolError("multiproc: recv_handle: the next message is not a descriptor");
  }
  return take_fds(1).front();
}

Bytes Connection::take_payload(const detail::Frame& f) {
  // A large frame was assembled in large_: hand that buffer over, no copy.
  if (!large_.empty() && f.payload.data() == large_.data()) return std::exchange(large_, Bytes());
  Bytes out(f.payload.size());
  std::copy(f.payload.begin(), f.payload.end(), out.data());
  return out;
}

Bytes Connection::recv_bytes() {
  return take_payload(recv_frame(nullptr));
}

std::optional<Bytes> Connection::recv_bytes(std::chrono::nanoseconds timeout) {
  auto deadline = detail::deadline_after(timeout);
  if (!poll(timeout)) return std::nullopt;
  return take_payload(recv_frame(&deadline));
}

std::size_t Connection::recv_bytes_into(std::span<std::byte> buffer) {
  detail::Frame f = recv_frame(nullptr);
  if (f.payload.size() > buffer.size()) {
    std::size_t needed = f.payload.size();
    throw BufferTooShort(needed, buffer.size(), std::make_shared<Bytes>(take_payload(f)));
  }
  std::copy(f.payload.begin(), f.payload.end(), buffer.data());
  return f.payload.size();
}

bool Connection::poll(std::optional<std::chrono::nanoseconds> timeout) {
  require(readable_, "poll");
  if (reader_ && reader_->has_buffered_frame()) return true;
  sys::Deadline d = timeout ? sys::Deadline::after(*timeout) : sys::Deadline::never();
  for (;;) {
    timespec ts;
    int r = sys::poll_one(fd_, POLLIN, d.remaining(ts));
    if (r > 0) return true;
    if (r == 0) return false;
    if (r != -EINTR) throw SystemError("poll on a connection", -r);
  }
}

std::pair<Connection, Connection> Pipe(bool duplex) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw SystemError("socketpair", errno);
  }
  if (duplex) return {Connection(fds[0], true, true), Connection(fds[1], true, true)};
  // One direction only: the first end receives, the second sends.
  ::shutdown(fds[0], SHUT_WR);
  ::shutdown(fds[1], SHUT_RD);
  return {Connection(fds[0], true, false), Connection(fds[1], false, true)};
}

}  // namespace multiproc
