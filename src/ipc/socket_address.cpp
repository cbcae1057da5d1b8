#include "ipc/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "multiproc/error.hpp"

namespace multiproc {

std::string to_string(const Address& address) {
  if (const auto* u = std::get_if<UnixAddress>(&address)) {
    if (!u->path.empty() && u->path[0] == '\0') return "@" + u->path.substr(1);
    return u->path;
  }
  const auto& t = std::get<TcpAddress>(address);
  return t.host + ":" + std::to_string(t.port);
}

}  // namespace multiproc

namespace multiproc::detail {
namespace {

SocketAddress unix_address(const UnixAddress& a, const char* operation) {
  SocketAddress out;
  auto& un = reinterpret_cast<sockaddr_un&>(out.storage);
  un.sun_family = AF_UNIX;
  const bool abstract = !a.path.empty() && a.path[0] == '\0';
  // A path needs its terminating NUL; an abstract name is counted exactly.
  const std::size_t room = sizeof un.sun_path - (abstract ? 0 : 1);
  if (a.path.empty() || a.path.size() > room || (abstract && a.path.size() < 2)) {
    throw UsageError(std::string(operation) + ": Unix socket address '" + to_string(Address(a)) +
                     "' is empty or longer than " + std::to_string(room) + " bytes");
  }
  if (!abstract && a.path.find('\0') != std::string::npos) {
    throw UsageError(std::string(operation) + ": a Unix socket path cannot hold a NUL byte");
  }
  std::memcpy(un.sun_path, a.path.data(), a.path.size());
  out.length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + a.path.size() + (abstract ? 0 : 1));
  out.family = AF_UNIX;
  return out;
}

SocketAddress tcp_address(const TcpAddress& a, const char* operation) {
  SocketAddress out;
  auto& in = reinterpret_cast<sockaddr_in&>(out.storage);
  in.sin_family = AF_INET;
  in.sin_port = htons(a.port);
  const std::string host = a.host == "localhost" ? "127.0.0.1" : a.host;
  if (::inet_pton(AF_INET, host.c_str(), &in.sin_addr) != 1) {
    throw UsageError(std::string(operation) + ": '" + a.host +
                     "' is not an IPv4 address (multiproc does no name lookup)");
  }
  out.length = sizeof in;
  out.family = AF_INET;
  return out;
}

}  // namespace

SocketAddress to_sockaddr(const Address& address, const char* operation) {
  if (const auto* u = std::get_if<UnixAddress>(&address)) return unix_address(*u, operation);
  return tcp_address(std::get<TcpAddress>(address), operation);
}

Address bound_address(int fd, const Address& asked) {
  auto* tcp = std::get_if<TcpAddress>(&asked);
  if (tcp == nullptr) return asked;
  sockaddr_in in{};
  socklen_t len = sizeof in;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len) != 0) {
    throw SystemError("Listener: getsockname", errno);
  }
  return TcpAddress{tcp->host, ntohs(in.sin_port)};
}

}  // namespace multiproc::detail
