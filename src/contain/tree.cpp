#include "contain/tree.hpp"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "contain/session.hpp"
#include "sys/deadline.hpp"

namespace multiproc::detail::contain {
namespace {

// How long end() waits for a killed tree to leave its cgroup.
constexpr std::chrono::seconds kEmptyWait{5};

// The children of every thread of `pid` (/proc/<pid>/task/<tid>/children).
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::string task_dir = "/proc/" + std::to_string(pid) + "/task/";
  // The threads a fallback child has are few; the leader's list is where
  // processes it forked on its main thread and every orphan it adopted land.
  std::ifstream f(task_dir + std::to_string(pid) + "/children");
  long child = 0;
  while (f >> child) out.push_back(static_cast<pid_t>(child));
  return out;
}

// SIGKILLs every descendant of `root` that /proc shows. Order does not
// matter: a killed process's children move up to `root` (a subreaper), and
// the next round finds them.
void kill_descendants(pid_t root) {
  for (int round = 0; round < 100; ++round) {
    std::vector<pid_t> found = children_of(root);
    if (found.empty()) return;
    for (std::size_t i = 0; i < found.size(); ++i) {
      for (pid_t grandchild : children_of(found[i])) found.push_back(grandchild);
    }
    for (pid_t p : found) ::kill(p, SIGKILL);
  }
}

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
        kill_descendants(child_);
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
