// multiproc/listener.hpp — Listener and Client: Connections between
// processes that did not start one another (Python's
// multiprocessing.connection.Listener and Client).
//
//   // server
//   mp::Listener server(mp::UnixAddress{"/run/app.sock"}, {.authkey = "secret"});
//   mp::Connection c = server.accept();        // or accept(5s), accept(stop_token)
//   c.send(c.recv<int>() + 1);
//
//   // another program
//   mp::Connection c = mp::Client(mp::UnixAddress{"/run/app.sock"}, {.authkey = "secret"});
//   c.send(41);
//   c.recv<int>();                              // 42
//
// An Address is serializable: pass it to a child, which connects with Client().
//
// Addresses: a Unix socket path; an abstract Unix socket (a name that starts
// with '\0': no file, gone with its last descriptor); TCP on an IPv4 address
// (TcpAddress, "127.0.0.1" by default; port 0 lets the kernel choose, and
// address() says which). A default Listener takes a fresh abstract name.
//
// Authentication: with an authkey, accept() and Client() run a mutual
// challenge before anything else is read (HMAC-SHA256 over 40 random bytes
// each way, the scheme of Python 3.12; docs/connections.md): a peer with the
// wrong key, or none, is an AuthenticationError, and no payload it sent is
// decoded. Each handshake has a deadline (handshake_timeout, 5 s by default),
// so a client that connects and says nothing costs the server at most that.
// Without an authkey, anyone who can reach the address may connect: use a
// Unix path with restrictive permissions, or an authkey on TCP. The key is
// not encryption: the messages that follow travel in the clear.
//
// Thread safety: one thread at a time per Listener (accept from one thread);
// distinct Listeners are independent. Client() is thread-safe. Fork safety: a
// forked child may use a Listener passed to it, but only one process should
// accept on it. Not async-signal-safe. Destruction closes the socket and
// removes the socket file this Listener created (not one that replaced it).
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <chrono>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <variant>

#include "multiproc/connection.hpp"

namespace multiproc {

// A Unix socket: a file system path, or an abstract name when `path` starts
// with '\0' (Linux only; no file is created).
struct UnixAddress {
  std::string path;
  bool operator==(const UnixAddress&) const = default;
  template <class Archive>
  void serialize(Archive& ar) {  // so that an Address can be sent to a child
    ar(path);
  }
};

// TCP over IPv4: a dotted address ("127.0.0.1") or "localhost"; no name
// lookup. Port 0 in a Listener: any free port.
struct TcpAddress {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  bool operator==(const TcpAddress&) const = default;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(host, port);
  }
};

using Address = std::variant<UnixAddress, TcpAddress>;

// "/run/app.sock", "@name" for an abstract one, "127.0.0.1:5000".
std::string to_string(const Address& address);

struct ListenerOptions {
  // Connections the kernel queues before accept() (listen's backlog).
  int backlog = 16;
  // Unset: no authentication. An empty key is still a key.
  std::optional<std::string> authkey{};
  // The most time one accepted client's handshake may take.
  std::chrono::nanoseconds handshake_timeout = std::chrono::seconds(5);
};

struct ClientOptions {
  std::optional<std::string> authkey{};
  // The most time connecting and then the handshake may take, each.
  std::chrono::nanoseconds timeout = std::chrono::seconds(5);
};

class Listener {
 public:
  // Listens on a fresh abstract Unix name.
  Listener() : Listener(ListenerOptions{}) {}
  explicit Listener(ListenerOptions options);
  // Binds and listens. Throws SystemError (EADDRINUSE for a path or port in
  // use), UsageError for an address it cannot use (a path over 107 bytes, a
  // host that is not an IPv4 address, a backlog under 1).
  explicit Listener(Address address, ListenerOptions options = {});
  ~Listener();
  Listener(Listener&&) noexcept;
  Listener& operator=(Listener&&) noexcept;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Waits for a client and authenticates it (with an authkey). Throws
  // AuthenticationError when the client fails the handshake, TimeoutError
  // when it does not finish in handshake_timeout (the client is dropped
  // either way: call accept() again); UsageError once closed.
  Connection accept();
  // As accept(), waiting at most `timeout` for a client to arrive (then
  // nullopt); the handshake has its own deadline.
  std::optional<Connection> accept(std::chrono::nanoseconds timeout);
  // As accept(); Interrupted when `stop` is requested before a client comes.
  Connection accept(std::stop_token stop);

  // Where it listens (the port the kernel chose, for port 0).
  const Address& address() const noexcept { return address_; }
  // The listening socket (close-on-exec), e.g. for wait() or poll.
  int fd() const noexcept { return fd_; }
  // Closes the socket and removes its file. Idempotent.
  void close() noexcept;
  bool closed() const noexcept { return fd_ < 0; }

 private:
  Connection handshake(int fd);

  int fd_ = -1;
  Address address_;
  ListenerOptions options_;
  // The socket file this Listener made (device, inode), to remove only it.
  std::uint64_t file_dev_ = 0;
  std::uint64_t file_ino_ = 0;
  bool owns_file_ = false;
};

// Connects to a Listener and authenticates (with an authkey). Throws
// SystemError when nobody listens there (ECONNREFUSED, ENOENT),
// AuthenticationError when the keys differ, TimeoutError when connecting or
// the handshake takes longer than options.timeout.
Connection Client(const Address& address, ClientOptions options = {});

}  // namespace multiproc
