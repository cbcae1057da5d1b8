#include "multiproc/shared_memory.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "multiproc/error.hpp"
#include "shm/named_segment.hpp"
#include "shm/shared_region.hpp"

namespace multiproc {

struct SharedMemory::State {
  detail::NamedSegment segment;  // name and tracker empty when anonymous
};

SharedMemory::SharedMemory(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}

SharedMemory::SharedMemory(std::size_t size) : state_(std::make_shared<State>()) {
  state_->segment.region = detail::SharedRegion::create(size, "multiproc-SharedMemory");
}

SharedMemory SharedMemory::create(std::string_view name, std::size_t size) {
  return SharedMemory(std::make_shared<State>(State{detail::create_named_segment(name, size)}));
}

SharedMemory SharedMemory::create(std::size_t size) {
  // A name nobody uses: this process, and random bits from the kernel; a
  // collision (EEXIST) draws again.
  for (int attempt = 0;; ++attempt) {
    std::uint64_t bits = 0;
    if (::getrandom(&bits, sizeof bits, 0) != static_cast<long>(sizeof bits)) {
      bits =
          static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(bits));
    std::string name = "/mp-" + std::to_string(::getpid()) + "-" + hex;
    try {
      return create(name, size);
    } catch (const SystemError& e) {
      if (e.code().value() != EEXIST || attempt >= 16) throw;
    }
  }
}

SharedMemory SharedMemory::attach(std::string_view name) {
  return SharedMemory(std::make_shared<State>(State{detail::attach_named_segment(name)}));
}

SharedMemory SharedMemory::from_fd(int fd) {
  sys::UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!copy) {
    if (errno == EBADF) {
      throw UsageError("SharedMemory::from_fd: descriptor " + std::to_string(fd) + " is not open");
    }
    throw SystemError("SharedMemory::from_fd: duplicating descriptor " + std::to_string(fd), errno);
  }
  auto state = std::make_shared<State>();
  state->segment.region = detail::SharedRegion::adopt(std::move(copy));
  return SharedMemory(std::move(state));
}

const SharedMemory::State& SharedMemory::state(const char* operation) const {
  if (!state_) throw UsageError(std::string(operation) + ": the handle was moved from");
  return *state_;
}

std::span<std::byte> SharedMemory::buf() const {
  const detail::SharedRegion& r = *state("SharedMemory::buf").segment.region;
  return {static_cast<std::byte*>(r.data()), r.size()};
}

std::size_t SharedMemory::size() const {
  return state("SharedMemory::size").segment.region->size();
}

const std::string& SharedMemory::name() const {
  return state("SharedMemory::name").segment.name;
}

int SharedMemory::fd() const {
  const detail::SharedRegion& r = *state("SharedMemory::fd").segment.region;
  if (!r.fd_is_open()) {
    throw UsageError(
        "SharedMemory::fd: the segment's descriptor is not open in this process (a forked child "
        "keeps it only when the SharedMemory is passed as a Process argument)");
  }
  return r.fd();
}

void SharedMemory::unlink() {
  const State& s = state("SharedMemory::unlink");
  if (s.segment.name.empty()) {
    throw UsageError("SharedMemory::unlink: an anonymous segment has no name to remove");
  }
  detail::unlink_named_segment(s.segment.name);
}

std::optional<pid_t> SharedMemory::tracker_pid() const {
  const State& s = state("SharedMemory::tracker_pid");
  if (s.segment.tracker.pid <= 0) return std::nullopt;
  return s.segment.tracker.pid;
}

void SharedMemory::multiproc_descriptors(std::vector<int>& out) const {
  if (!state_) return;
  const detail::NamedSegment& s = state_->segment;
  if (s.region->fd_is_open()) out.push_back(s.region->fd());
  if (s.tracker.write_end_is_open()) out.push_back(s.tracker.write_end.get());
}

}  // namespace multiproc
