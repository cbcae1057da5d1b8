// Internal: Address (listener.hpp) to and from the kernel's sockaddr.
#pragma once

#include <sys/socket.h>

#include "multiproc/listener.hpp"

namespace multiproc::detail {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = 0;
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
};

// Throws UsageError for an address the kernel cannot take (a path over
// 107 bytes, a host that is not IPv4 or "localhost").
SocketAddress to_sockaddr(const Address& address, const char* operation);
// The address a bound socket has (getsockname), e.g. the port chosen.
Address bound_address(int fd, const Address& asked);

}  // namespace multiproc::detail
