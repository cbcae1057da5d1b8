// GroupStop, the sending end of the group-stop channel, and GroupChannel, its
// receiving end (SO_PASSCRED: the kernel stamps each datagram with its
// sender's PID).
#include "multiproc/group_stop.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "multiproc/detail/wire.hpp"
#include "multiproc/error.hpp"
#include "supervisor/group_channel.hpp"
#include "sys/unique_fd.hpp"

namespace multiproc {

namespace {
constexpr std::size_t kMaxReason = 4096;
}  // namespace

struct GroupStop::Channel {
  sys::UniqueFd fd;
};

bool GroupStop::request(std::string_view reason) const noexcept {
  if (!channel_) return false;
  std::size_t n = reason.size() < kMaxReason ? reason.size() : kMaxReason;
  ssize_t sent;
  do {
    sent = ::send(channel_->fd.get(), reason.data(), n, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return sent >= 0;
}

int GroupStop::fd() const noexcept {
  return channel_ ? channel_->fd.get() : -1;
}

GroupStop GroupStop::adopt(int fd) {
  auto channel = std::make_shared<Channel>();
  channel->fd.reset(fd);
  return GroupStop(std::move(channel));
}

GroupStop GroupStop::from_fd(int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_DGRAM)
    throw UsageError("GroupStop::from_fd: descriptor " + std::to_string(fd) +
                     " is not a datagram socket");
  return adopt(detail::dup_received(fd));
}

void GroupStop::multiproc_descriptors(std::vector<int>& out) const {
  if (channel_) out.push_back(channel_->fd.get());
}

void GroupStop::multiproc_export(detail::WireWriter& w) const {
  if (!channel_) throw UsageError("GroupStop: sending an empty GroupStop to a child");
  w.fd(channel_->fd.get());
}

GroupStop GroupStop::multiproc_import(detail::WireReader& r) {
  return adopt(detail::dup_received(r.fd()));
}

namespace detail {

GroupChannel::GroupChannel() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw SystemError("Supervisor: socketpair for the group-stop channel", errno);
  receiver_.reset(fds[0]);
  sender_ = GroupStop::adopt(fds[1]);
  int on = 1;
  if (::setsockopt(fds[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0)
    throw SystemError("Supervisor: SO_PASSCRED on the group-stop channel", errno);
  int flags = ::fcntl(fds[0], F_GETFL);
  if (flags < 0 || ::fcntl(fds[0], F_SETFL, flags | O_NONBLOCK) != 0)
    throw SystemError("Supervisor: O_NONBLOCK on the group-stop channel", errno);
}

std::optional<GroupStopRequest> GroupChannel::receive() {
  std::array<char, kMaxReason> buffer{};
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(ucred))> control{};
  iovec iov{buffer.data(), buffer.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t n;
  do {
    n = ::recvmsg(receiver_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return std::nullopt;
  GroupStopRequest request;
  request.reason.assign(buffer.data(), static_cast<std::size_t>(n));
  // `echo done >&3` sends "done\n": the line, not its end, is the reason.
  if (!request.reason.empty() && request.reason.back() == '\n') request.reason.pop_back();
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      ucred cred{};
      std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
      request.sender = cred.pid;
    }
  }
  return request;
}

void GroupChannel::drain() {
  while (receive()) {
  }
}

}  // namespace detail
}  // namespace multiproc
