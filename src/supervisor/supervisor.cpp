// Supervisor: the public object around the run loop — children, the wake-up
// eventfd that stop requests write to, the group-stop channel.
#include "multiproc/supervisor.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "multiproc/error.hpp"
#include "supervisor/group_channel.hpp"
#include "supervisor/run_loop.hpp"
#include "sys/unique_fd.hpp"

namespace multiproc {

struct Supervisor::State {
  SupervisorOptions options;
  std::vector<detail::Slot> slots;
  detail::GroupChannel channel;
  sys::UniqueFd wake;
  std::atomic<bool> running{false};
};

namespace {

void wake_up(int fd) noexcept {
  std::uint64_t one = 1;
  ssize_t n;
  do {
    n = ::write(fd, &one, sizeof one);
  } while (n < 0 && errno == EINTR);
}

void drain(int fd) noexcept {
  std::uint64_t value = 0;
  while (::read(fd, &value, sizeof value) > 0) {
  }
}

// std::stop_callback's callable: runs on the thread that requests the stop.
struct WakeOnStop {
  int fd;
  void operator()() const noexcept { wake_up(fd); }
};

}  // namespace

Supervisor::Supervisor(SupervisorOptions options) : state_(std::make_unique<State>()) {
  if (options.max_restarts < 0) throw UsageError("Supervisor: negative max_restarts");
  if (options.period.count() <= 0) throw UsageError("Supervisor: period must be positive");
  state_->options = options;
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw SystemError("Supervisor: eventfd", errno);
  state_->wake.reset(fd);
}

Supervisor::~Supervisor() = default;

void Supervisor::add(ChildSpec spec) {
  if (state_->running.load()) throw UsageError("Supervisor::add: the supervisor is running");
  for (const auto& slot : state_->slots)
    if (slot.spec.name() == spec.name())
      throw UsageError("Supervisor::add: a child named '" + spec.name() + "' already exists");
  state_->slots.emplace_back(std::move(spec));
}

SupervisorReport Supervisor::run(std::stop_token stop) {
  if (state_->running.exchange(true))
    throw UsageError("Supervisor::run: already running (in another thread)");
  struct Running {
    State& s;
    ~Running() {
      drain(s.wake.get());
      s.channel.drain();
      for (auto& slot : s.slots) slot = detail::Slot(std::move(slot.spec));
      s.running.store(false);
    }
  } guard{*state_};
  std::stop_callback on_stop(stop, WakeOnStop{state_->wake.get()});
  detail::RunLoop loop(state_->options, state_->slots, state_->channel, state_->wake.get());
  return loop.run();
}

void Supervisor::request_stop() noexcept {
  wake_up(state_->wake.get());
}

GroupStop Supervisor::group_stop() const {
  return state_->channel.sender();
}

}  // namespace multiproc
