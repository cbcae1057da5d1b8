#include "contain/session.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "contain/cgroup_paths.hpp"
#include "contain/guardian.hpp"
#include "sys/child_resets.hpp"
#include "sys/unique_fd.hpp"

namespace multiproc::detail::contain {
namespace {

constexpr std::size_t kKeptCgroups = 16;

// The session directory, for kill_session_trees() in a signal handler.
std::atomic<int> g_session_fd{-1};

class Session {
 public:
  Session() : mechanism_(decide()) { kept_.reserve(kKeptCgroups); }

  Containment mechanism() const noexcept { return mechanism_; }

  CgroupDir lease() {
    std::lock_guard lock(mu_);
    if (mechanism_ != Containment::cgroup) return {};
    CgroupDir dir;
    char name[32];
    while (!kept_.empty()) {
      std::snprintf(name, sizeof name, "c%llu", kept_.back());
      kept_.pop_back();
      if (CgroupDir::open(session_.get(), name, dir) == 0) return dir;
    }
    std::snprintf(name, sizeof name, "c%llu", ++made_);
    (void)CgroupDir::create(session_.get(), name, dir);
    return dir;
  }

  void give_back(CgroupDir dir) noexcept {
    if (!dir.valid()) return;
    std::lock_guard lock(mu_);
    // Kept by number, its descriptor closed (a process with many children
    // holds no descriptor per idle cgroup).
    if (!dir.was_killed() && !dir.populated() && kept_.size() < kKeptCgroups) {
      unsigned long long number = std::strtoull(dir.name() + 1, nullptr, 10);
      kept_.push_back(number);  // capacity reserved: no allocation
      return;
    }
    (void)dir.remove(session_.get());
  }

  pid_t guardian() const noexcept { return guardian_; }

  Session* forgotten_next = nullptr;  // see forget_session_in_child

 private:
  Containment decide() {
    const char* forced = std::getenv("MULTIPROC_CONTAINMENT");
    std::string choice = forced != nullptr ? forced : "";
    if (choice == "none") return Containment::none;
    if (choice == "process_group") return Containment::process_group;
    return open_session() ? Containment::cgroup : Containment::process_group;
  }

  // Makes multiproc-<pid> below the own cgroup and its guardian.
  bool open_session() {
    auto own_path = own_cgroup_directory();
    if (!own_path) return false;
    sys::UniqueFd own(::open(own_path->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!own) return false;
    std::snprintf(session_name_, sizeof session_name_, "multiproc-%d",
                  static_cast<int>(::getpid()));
    if (::mkdirat(own.get(), session_name_, 0755) != 0) return false;
    sys::UniqueFd session(::openat(own.get(), session_name_, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    pid_t guardian = session ? start_guardian(own.get(), session.get(), session_name_) : -1;
    if (guardian < 0) {
      ::unlinkat(own.get(), session_name_, AT_REMOVEDIR);
      return false;
    }
    guardian_ = guardian;
    session_ = std::move(session);
    g_session_fd.store(session_.get(), std::memory_order_release);
    return true;
  }

  std::mutex mu_;
  sys::UniqueFd session_;
  char session_name_[32] = {};
  unsigned long long made_ = 0;
  std::vector<unsigned long long> kept_;  // emptied cgroups c<N>, never killed
  pid_t guardian_ = 0;
  // Last: its initializer, decide(), fills the members above.
  const Containment mechanism_;
};

std::atomic<Session*> g_session{nullptr};
std::mutex g_session_mu;

Session& session() {
  Session* s = g_session.load(std::memory_order_acquire);
  if (s != nullptr) return *s;
  std::lock_guard lock(g_session_mu);
  s = g_session.load(std::memory_order_relaxed);
  if (s == nullptr) {
    s = new Session;  // never destroyed: the guardian ends the session
    g_session.store(s, std::memory_order_release);
  }
  return *s;
}

// A forked child has its parent's session object but not its guardian or
// the right to its cgroups: it starts its own when it needs one. The old
// object stays allocated and reachable (its descriptors were closed or are
// the child's copies, which it never uses).
Session* g_forgotten_session = nullptr;  // inherited, kept reachable, unused

void forget_session_in_child() noexcept {
  if (Session* inherited = g_session.exchange(nullptr, std::memory_order_relaxed)) {
    inherited->forgotten_next = g_forgotten_session;
    g_forgotten_session = inherited;
  }
  g_session_fd.store(-1, std::memory_order_relaxed);
  new (&g_session_mu) std::mutex;
}
[[maybe_unused]] const bool g_registered = sys::on_fork_child(forget_session_in_child);

}  // namespace

Containment session_mechanism() {
  return session().mechanism();
}

CgroupDir lease_cgroup() {
  return session().lease();
}

pid_t session_guardian() noexcept {
  Session* s = g_session.load(std::memory_order_acquire);
  return s != nullptr ? s->guardian() : 0;
}

void kill_session_trees() noexcept {
  int fd = g_session_fd.load(std::memory_order_acquire);
  if (fd >= 0) (void)write_cgroup_file(fd, "cgroup.kill", "1");
}

void return_cgroup(CgroupDir dir) noexcept {
  if (!dir.valid()) return;
  if (Session* s = g_session.load(std::memory_order_acquire)) s->give_back(std::move(dir));
}

}  // namespace multiproc::detail::contain

namespace multiproc {

Containment containment_mechanism() {
  return detail::contain::session_mechanism();
}

std::string_view to_string(Containment c) noexcept {
  switch (c) {
    case Containment::cgroup:
      return "cgroup";
    case Containment::process_group:
      return "process_group";
    case Containment::none:
      return "none";
  }
  return "unknown";
}

}  // namespace multiproc
