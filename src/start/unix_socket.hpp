// Sending and receiving bytes with descriptors (SCM_RIGHTS) over a Unix
// stream socket: the forkserver's request and reply. Received descriptors
// are close-on-exec.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace multiproc::detail {

// Sends all of `bytes`, the descriptors with the first byte. 0 or -errno.
int send_with_fds(int socket, const void* bytes, std::size_t size,
                  std::span<const int> fds) noexcept;
// Receives exactly `size` bytes (0 returned at a clean end of stream before
// the first byte), appending the descriptors that came with them to `fds`.
// Returns 1 when complete, 0 at end of stream, -errno on error (-EPROTO for
// a stream that ended mid-message or truncated descriptors).
int recv_with_fds(int socket, void* bytes, std::size_t size, std::vector<int>& fds,
                  std::size_t max_fds);
// Plain exact read / write of the rest of a message (EINTR retried).
int recv_exact(int socket, void* bytes, std::size_t size) noexcept;
int send_exact(int socket, const void* bytes, std::size_t size) noexcept;

}  // namespace multiproc::detail
