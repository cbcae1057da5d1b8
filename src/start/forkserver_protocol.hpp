// The forkserver's private protocol, over a socketpair between the process
// that started the zygote and the zygote (nobody else can reach it).
//
// Request: a ForkRequest header, sent with SCM_RIGHTS descriptors (first the
// child's channel, then its arguments', then with kForkIntoCgroup its
// cgroup's directory), followed by message_size bytes of task message
// (task_message.hpp).
// Reply: a ForkReply; on success with SCM_RIGHTS carrying the child's pidfd.
//
// The zygote checks every request before acting on it (fuzzed:
// tests/fuzz/fork_request_fuzz.cpp); a malformed one is answered with EINVAL
// and, since the byte stream can no longer be trusted, ends the zygote.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace multiproc::detail {

struct ForkRequest {
  std::uint32_t magic = 0;
  std::uint32_t version = 0;
  std::int32_t requester_pid = 0;
  std::int32_t death_signal = 0;
  std::uint32_t descriptor_count = 0;  // channel + arguments
  std::uint32_t flags = 0;             // the kFork* flags below
  std::uint64_t message_size = 0;
};

struct ForkReply {
  std::int32_t error = 0;  // 0, or the errno of the failed fork
  std::int32_t pid = 0;
};

inline constexpr std::uint32_t kForkRequestMagic = 0x5346504d;  // "MPFS"
inline constexpr std::uint32_t kForkRequestVersion = 1;
// SCM_RIGHTS carries at most 253 descriptors per message.
inline constexpr std::uint32_t kMaxForkDescriptors = 253;
inline constexpr std::uint32_t kForkIgnoreSigint = 1;
inline constexpr std::uint32_t kForkParentDecidesSignals = 2;
// Containment: the last descriptor is a cgroup directory the child starts
// in; or the child leads its own process group as a child subreaper.
inline constexpr std::uint32_t kForkIntoCgroup = 4;
inline constexpr std::uint32_t kForkOwnGroup = 8;
inline constexpr std::uint64_t kMaxForkMessage = std::uint64_t{1} << 34;  // 16 GiB

// Checks a request header received with `received_descriptors` descriptors.
// Returns 0 or the errno to answer with (EINVAL).
int check_fork_request(const ForkRequest& request, std::size_t received_descriptors) noexcept;

}  // namespace multiproc::detail
