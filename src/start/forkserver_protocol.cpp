#include "start/forkserver_protocol.hpp"

#include <signal.h>

#include <cerrno>

namespace multiproc::detail {

int check_fork_request(const ForkRequest& r, std::size_t received_descriptors) noexcept {
  bool ok =
      r.magic == kForkRequestMagic && r.version == kForkRequestVersion && r.requester_pid > 0 &&
      r.death_signal >= 0 && r.death_signal < NSIG && r.descriptor_count >= 1 &&
      r.descriptor_count <= kMaxForkDescriptors && r.descriptor_count == received_descriptors &&
      (r.flags &
       ~(kForkIgnoreSigint | kForkParentDecidesSignals | kForkIntoCgroup | kForkOwnGroup)) == 0 &&
      ((r.flags & kForkIntoCgroup) == 0 || r.descriptor_count >= 2) &&
      r.message_size <= kMaxForkMessage;
  return ok ? 0 : EINVAL;
}

}  // namespace multiproc::detail
