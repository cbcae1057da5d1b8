// multiproc/group_stop.hpp — a way for any supervised child to ask the whole
// group to stop (supervisor.hpp).
//
//   void watcher(mp::GroupStop group, std::string path) {
//     while (!std::filesystem::exists(path)) wait_a_bit();
//     group.request("the file appeared");   // the supervisor stops everyone
//   }
//   mp::Supervisor sup;
//   sup.add(mp::ChildSpec::function("watcher", {}, watcher, sup.group_stop(), path));
//
// A GroupStop is the sending end of the supervisor's datagram socket
// (AF_UNIX, SOCK_DGRAM). The receiving end has SO_PASSCRED, so the kernel
// tells the supervisor which PID sent a request; the report names that child.
// Passed to a function child as an argument, it crosses through every start
// method (fork keeps the descriptor; spawn and forkserver send it), like a
// Connection. External commands get the same socket at descriptor 3, with
// MULTIPROC_GROUP_STOP_FD=3 in their environment: any datagram written there
// is a request and its bytes are the reason (`echo done >&3` in a shell).
//
// Thread safety: copies share one descriptor; request() may be called from
// any thread and from a signal handler (it is one send(2), no allocation).
// Destruction closes this process's descriptor when the last copy goes.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <memory>
#include <string_view>
#include <vector>

#include "multiproc/detail/wire_fwd.hpp"

namespace multiproc {

namespace detail {
class GroupChannel;
}  // namespace detail

class GroupStop {
 public:
  GroupStop() noexcept = default;  // an empty handle: request() does nothing

  // Asks the supervisor to stop the whole group; `reason` (at most 4096
  // bytes are kept) appears in its report. Returns false when the request
  // could not be sent (no supervisor any more, or the socket buffer is full
  // of earlier requests). Async-signal-safe.
  bool request(std::string_view reason = {}) const noexcept;

  // Whether this handle has a socket.
  explicit operator bool() const noexcept { return static_cast<bool>(channel_); }
  // The socket (close-on-exec), for passing to another process by hand.
  int fd() const noexcept;
  // Adopts a duplicate of `fd` (e.g. MULTIPROC_GROUP_STOP_FD in a program
  // started some other way). Throws UsageError if it is not a datagram socket.
  static GroupStop from_fd(int fd);

  // Keeps the socket open in a forked child that receives this GroupStop.
  void multiproc_descriptors(std::vector<int>& out) const;
  // Crossing into a spawned or forkserver child as a descriptor.
  void multiproc_export(detail::WireWriter& w) const;
  static GroupStop multiproc_import(detail::WireReader& r);

 private:
  struct Channel;
  explicit GroupStop(std::shared_ptr<Channel> channel) noexcept : channel_(std::move(channel)) {}
  friend class detail::GroupChannel;
  static GroupStop adopt(int fd);  // takes ownership of `fd`
  std::shared_ptr<Channel> channel_;
};

}  // namespace multiproc
