// The receiving end of the group-stop channel: an AF_UNIX datagram socket
// with SO_PASSCRED, so each request carries its sender's PID as the kernel
// saw it. The sending end is a GroupStop (group_stop.hpp).
//
// Not thread-safe: the supervisor's run loop is its only reader.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "multiproc/group_stop.hpp"
#include "sys/unique_fd.hpp"

namespace multiproc::detail {

struct GroupStopRequest {
  pid_t sender = 0;  // 0 if the kernel gave no credentials
  std::string reason{};
};

class GroupChannel {
 public:
  // Creates the socket pair; the sending end becomes a GroupStop (see make()).
  GroupChannel();
  int fd() const noexcept { return receiver_.get(); }
  // The next pending request, without blocking; nullopt when none is queued.
  std::optional<GroupStopRequest> receive();
  // Drops every pending request (between two runs).
  void drain();
  // The sending end (copies share its descriptor).
  const GroupStop& sender() const noexcept { return sender_; }

 private:
  sys::UniqueFd receiver_;
  GroupStop sender_;
};

}  // namespace multiproc::detail
