// multiproc/connection.hpp — Pipe() and Connection: typed messages between
// two processes, Python's multiprocessing.Pipe.
//
//   auto [parent, child] = mp::Pipe();
//   mp::Process p([](mp::Connection& c) { c.send(c.recv<int>() * 2); }, std::ref(child));
//   p.start();
//   parent.send(21);
//   int answer = parent.recv<int>();        // 42
//   if (parent.poll(100ms)) { ... }         // a message (or end of stream) is waiting
//
// A Connection is one end of a Unix stream socket. Messages are framed with
// a 64-bit length, so messages of any size (2 GiB and far more) go through;
// send<T>/recv<T> carry any Serializable value (serialization.hpp),
// send_bytes/recv_bytes raw bytes.
//
// Shared objects cross too: send(queue), send(connection), send(lock) pass
// their descriptors (SCM_RIGHTS) to the process at the other end, which gets
// a handle to the same object with recv<Queue<T>>() and so on, whatever start
// method made the two processes (or none: see listener.hpp).
// send_handle(fd) / recv_handle() pass one plain descriptor (Python's
// multiprocessing.reduction.send_handle); the received one is close-on-exec.
//
// When the other end is gone (closed, exited, killed), recv raises EOFError
// at once and send raises BrokenPipeError; SIGPIPE is never raised. Bytes that
// are not valid frames raise ProtocolError — no crash, no huge allocation.
//
// Passing a Connection to a Process (by std::ref, or moved in) keeps its
// descriptor open in the child; moved in, the parent's copy is closed at
// start(), which is what lets the other end see end-of-file when the child dies.
//
// Thread safety: one thread at a time per Connection (as in Python). Fork
// safety: a forked child may use a Connection passed to it. Not
// async-signal-safe. Destruction closes the descriptor.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "multiproc/bytes.hpp"
#include "multiproc/detail/fd_check.hpp"
#include "multiproc/detail/frame.hpp"
#include "multiproc/detail/wire.hpp"
#include "multiproc/error.hpp"
#include "multiproc/serialization.hpp"
#include "multiproc/stop.hpp"

namespace multiproc {

namespace detail {
class FrameReader;
}  // namespace detail

// recv_bytes_into: the message is larger than the buffer. It is not lost: it
// travels in the exception.
class BufferTooShort : public Error {
 public:
  BufferTooShort(std::size_t needed, std::size_t available, std::shared_ptr<Bytes> message);
  const Bytes& message() const noexcept { return *message_; }

 private:
  std::shared_ptr<Bytes> message_;
};

class Connection {
 public:
  // Largest message accepted by default: a frame that announces more is a
  // ProtocolError before anything is allocated.
  static constexpr std::uint64_t kDefaultMaxMessage = std::uint64_t{1} << 40;  // 1 TiB

  Connection() noexcept;  // closed
  // Adopts a connected stream socket, e.g. one received by a spawned child.
  // Throws UsageError (and leaves `fd` to the caller) if it is not one.
  static Connection from_fd(int fd, bool readable = true, bool writable = true);
  ~Connection();
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A Serializable value, or a shared object (Queue, Connection, Lock,
  // Event, Value, SharedMemory, ...) whose descriptors travel with it.
  template <class T>
  void send(const T& value) {
    if constexpr (detail::Transferable<T>) {
      detail::WireWriter w;
      value.multiproc_export(w);
      send_object(w);
    } else {
      Encoded<T> encoded(value);
      send_frame(encoded.tag(), encoded.bytes());
    }
  }
  // Blocks until a message arrives. EOFError when the other end is gone.
  template <class T>
  T recv() {
    return decode_frame<T>(recv_frame(nullptr));
  }

  // Sends a duplicate of descriptor `fd` (SCM_RIGHTS); the caller keeps
  // `fd`. Throws UsageError if `fd` is not open.
  void send_handle(int fd);
  // Receives a descriptor sent with send_handle: a new descriptor, owned by
  // the caller, close-on-exec. ProtocolError if the next message is not one.
  int recv_handle();
  // nullopt if no whole message arrived within `timeout`.
  template <class T>
  std::optional<T> recv(std::chrono::nanoseconds timeout) {
    auto deadline = detail::deadline_after(timeout);
    if (!poll(timeout)) return std::nullopt;
    return decode_frame<T>(recv_frame(&deadline));
  }

  void send_bytes(std::span<const std::byte> bytes) { send_frame(0, bytes); }
  void send_bytes(std::string_view bytes) { send_frame(0, std::as_bytes(std::span(bytes))); }
  Bytes recv_bytes();
  // recv() / recv_bytes() that throw Interrupted when `stop` is requested
  // before a message arrives (a message half-received is finished first).
  template <class T>
  T recv(std::stop_token stop) {
    wait_readable(stop, "Connection::recv");
    return recv<T>();
  }
  Bytes recv_bytes(std::stop_token stop) {
    wait_readable(stop, "Connection::recv_bytes");
    return recv_bytes();
  }
  std::optional<Bytes> recv_bytes(std::chrono::nanoseconds timeout);
  // Receives into `buffer`; returns the message's size. BufferTooShort if it
  // does not fit (the exception holds the message).
  std::size_t recv_bytes_into(std::span<std::byte> buffer);

  // Whether a message (or the end of the stream) is ready, waiting up to
  // `timeout`; nullopt waits without limit. Python's default is 0.
  bool poll(std::optional<std::chrono::nanoseconds> timeout = std::chrono::nanoseconds(0));

  void close() noexcept;
  bool closed() const noexcept { return fd_ < 0; }
  bool readable() const noexcept { return readable_; }
  bool writable() const noexcept { return writable_; }
  // The socket, close-on-exec; for passing to another process.
  int fd() const noexcept { return fd_; }
  // Messages announced as longer are refused (ProtocolError) before any
  // allocation; kDefaultMaxMessage unless set.
  void set_max_message(std::uint64_t bytes) noexcept;

  // Keeps the socket open in a forked child that receives this Connection.
  void multiproc_descriptors(std::vector<int>& out) const {
    if (fd_ >= 0 && fd_check_.valid(fd_)) out.push_back(fd_);
  }
  // Crossing into a spawned or forkserver child as descriptors (detail/wire.hpp).
  void multiproc_export(detail::WireWriter& w) const;
  static Connection multiproc_import(detail::WireReader& r);

 private:
  Connection(int fd, bool readable, bool writable) noexcept;
  friend std::pair<Connection, Connection> Pipe(bool duplex);
  // Frame tags of a shared object (its wire bytes, descriptors beside) and
  // of a descriptor sent alone.
  static constexpr std::uint32_t kObjectTag = 0x4f42504d;  // "MPBO"
  static constexpr std::uint32_t kHandleTag = 0x4448504d;  // "MPHD"
  // Descriptors received and not yet claimed by their message; more is a
  // ProtocolError (a peer flooding us with descriptors).
  static constexpr std::size_t kMaxPendingFds = 1024;

  void send_frame(std::uint32_t tag, std::span<const std::byte> payload,
                  std::span<const int> fds = {});
  // The first `n` descriptors received and not yet claimed (ProtocolError
  // if fewer came); the caller owns them.
  std::vector<int> take_fds(std::size_t n);
  void close_pending_fds() noexcept;
  // Reads one frame; `deadline` nullptr blocks without limit.
  detail::Frame recv_frame(const std::chrono::steady_clock::time_point* deadline);
  void require(bool ok, const char* operation) const;
  void wait_readable(const std::stop_token& stop, const char* operation) {
    detail::until_stopped(stop, operation, [&](auto slice) { return poll(slice); });
  }
  Bytes take_payload(const detail::Frame& frame);

  template <class T>
  T decode_frame(const detail::Frame& frame) {
    if constexpr (detail::Transferable<T>) {
      return import_object<T>(frame);
    } else {
      check_tag<T>(frame.tag);
      return decode<T>(frame.payload);
    }
  }
  // A shared object: its wire bytes, then a u32 count of descriptors that
  // came with them. The importer duplicates what it keeps.
  template <class T>
  T import_object(const detail::Frame& frame) {
    if (frame.tag != kObjectTag)
      throw DecodeError("multiproc: recv: the message is not a shared object");
    std::vector<int> fds = take_object_fds(frame);
    struct Closer {
      std::vector<int>& fds;
      ~Closer() { close_all(fds); }
    } closer{fds};
    detail::WireReader r(frame.payload.subspan(sizeof(std::uint32_t)), fds);
    T value = T::multiproc_import(r);
    if (r.remaining() != 0)
      throw DecodeError("multiproc: recv: trailing bytes after a shared object");
    return value;
  }
  // Checks the frame's descriptor count (its first u32) and takes them.
  std::vector<int> take_object_fds(const detail::Frame& frame);
  void send_object(const detail::WireWriter& w);
  static void close_all(std::vector<int>& fds) noexcept;

  int fd_ = -1;
  detail::FdCheck fd_check_;
  bool readable_ = false;
  bool writable_ = false;
  std::uint64_t max_message_ = kDefaultMaxMessage;
  std::unique_ptr<detail::FrameReader> reader_;
  Bytes large_;
  std::vector<int> pending_fds_;  // received with bytes not yet read as messages
};

// Two connected ends. duplex: both send and receive; otherwise the first only
// receives and the second only sends (Python's order).
std::pair<Connection, Connection> Pipe(bool duplex = true);

}  // namespace multiproc
