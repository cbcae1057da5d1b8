#include "start/unix_socket.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace multiproc::detail {

int send_with_fds(int socket, const void* bytes, std::size_t size,
                  std::span<const int> fds) noexcept {
  const std::size_t space = CMSG_SPACE(sizeof(int) * fds.size());
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 253)];
  if (fds.size() > 253) return -EINVAL;
  iovec iov{const_cast<void*>(bytes), size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    std::memset(control, 0, space);
    msg.msg_control = control;
    msg.msg_controllen = space;
    auto* c = reinterpret_cast<cmsghdr*>(control);  // the buffer holds at least one header
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do {
    n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  auto sent = static_cast<std::size_t>(n);
  return send_exact(socket, static_cast<const char*>(bytes) + sent, size - sent);
}

int recv_with_fds(int socket, void* bytes, std::size_t size, std::vector<int>& fds,
                  std::size_t max_fds) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 253)];
  iovec iov{bytes, size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * (max_fds < 253 ? max_fds : 253));
  ssize_t n;
  do {
    n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  if ((msg.msg_flags & MSG_CTRUNC) != 0) return -EPROTO;
  if (n == 0) return size == 0 ? 1 : 0;
  auto got = static_cast<std::size_t>(n);
  int r = recv_exact(socket, static_cast<char*>(bytes) + got, size - got);
  return r == 0 ? 1 : r;
}

int recv_exact(int socket, void* bytes, std::size_t size) noexcept {
  auto* p = static_cast<char*>(bytes);
  while (size > 0) {
    ssize_t n = ::recv(socket, p, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) return -EPROTO;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

int send_exact(int socket, const void* bytes, std::size_t size) noexcept {
  const auto* p = static_cast<const char*>(bytes);
  while (size > 0) {
    ssize_t n = ::send(socket, p, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace multiproc::detail
