#include "contain/tree.hpp"

#include <signal.h>

#include <chrono>

#include "contain/descendants.hpp"
#include "contain/session.hpp"
#include "sys/deadline.hpp"

namespace multiproc::detail::contain {
namespace {

// How long end() waits for a killed tree to leave its cgroup.
constexpr std::chrono::seconds kEmptyWait{5};

}  // namespace

Tree Tree::make() {
  Tree t;
  t.mechanism_ = session_mechanism();
  if (t.mechanism_ == Containment::cgroup) {
    t.cgroup_ = lease_cgroup();
    if (!t.cgroup_.valid()) t.mechanism_ = Containment::process_group;
  }
  return t;
}

void Tree::kill() noexcept {
  switch (mechanism_) {
    case Containment::cgroup:
      (void)cgroup_.kill();
      return;
    case Containment::process_group:
      if (child_ <= 0) return;
      try {
        kill_descendants(child_, [](pid_t p) { return ::kill(p, SIGKILL) == 0; });
      } catch (...) {  // no memory to walk /proc: the group still goes
      }
      ::kill(-child_, SIGKILL);
      return;
    case Containment::none:
      return;
  }
}

void Tree::end() noexcept {
  if (mechanism_ == Containment::none) return;
  if (mechanism_ == Containment::process_group) {
    // The child is a zombie: its PID, and so its group's, is not reused yet.
    kill();
    mechanism_ = Containment::none;
    return;
  }
  if (cgroup_.populated()) {
    (void)cgroup_.kill();
    (void)cgroup_.wait_empty(sys::Deadline::after(kEmptyWait));
  }
  return_cgroup(std::move(cgroup_));
  mechanism_ = Containment::none;
}

bool Tree::oom_killed() const {
  return mechanism_ == Containment::cgroup && cgroup_.memory_events().oom_kill > 0;
}

}  // namespace multiproc::detail::contain
