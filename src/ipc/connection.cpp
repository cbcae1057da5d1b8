#include "multiproc/connection.hpp"

#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
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

// Bytes from the socket, waiting up to the deadline for each read.
class SocketSource : public detail::ByteSource {
 public:
  SocketSource(int fd, const Clock::time_point* deadline) : fd_(fd), deadline_(deadline) {}

  std::size_t read(std::byte* dst, std::size_t max) override {
    if (long n = read_spinning(dst, max); n >= 0) return static_cast<std::size_t>(n);
    for (;;) {
      if (deadline_ != nullptr) wait_readable();
      long n = ::read(fd_, dst, std::min(max, kMaxIo));
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
      long n = ::recv(fd_, dst, std::min(max, kMaxIo), MSG_DONTWAIT);
      if (n >= 0) return n;
      if (errno != EAGAIN && errno != EINTR) return errno == ECONNRESET ? 0 : -1;
      sched_yield();
    } while (Clock::now() < until);
    return -1;
  }

  static constexpr auto kSpinWindow = std::chrono::microseconds(20);
  int fd_;
  const Clock::time_point* deadline_;
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
      large_(std::move(o.large_)) {}

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

void Connection::send_frame(std::uint32_t tag, std::span<const std::byte> payload) {
  require(writable_, "send");
  detail::FrameHeader header{detail::kFrameMagic, tag, payload.size()};
  iovec iov[2] = {{&header, sizeof header},
                  {const_cast<std::byte*>(payload.data()), payload.size()}};
  std::size_t first = 0;
  std::size_t left = sizeof header + payload.size();
  while (left > 0) {
    msghdr msg{};
    msg.msg_iov = iov + first;
    msg.msg_iovlen = 2 - first;
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
  SocketSource source(fd_, deadline);
  return reader_->read(source, large_);
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
  auto deadline = Clock::now() + timeout;
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
