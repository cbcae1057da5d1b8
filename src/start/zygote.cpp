#include "start/zygote.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "multiproc/detail/lock_word.hpp"
#include "multiproc/error.hpp"
#include "start/child_setup.hpp"
#include "start/child_task.hpp"
#include "start/forkserver_protocol.hpp"
#include "start/task_message.hpp"
#include "start/unix_socket.hpp"
#include "sys/signal_block.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail {
namespace {

struct ForkedTask {
  TaskMessage message;
  const int* arguments;
  std::size_t argument_count;
  int channel;
};

int run_forked_task(void* context) {
  auto& t = *static_cast<ForkedTask*>(context);
  return run_task(t.message, {t.arguments, t.argument_count}, t.channel);
}

void reply(int control, int error, pid_t pid, int pidfd) {
  ForkReply r{error, pid};
  std::span<const int> fds;
  if (pidfd >= 0) fds = {&pidfd, 1};
  if (send_with_fds(control, &r, sizeof r, fds) != 0) _exit(0);  // the requester is gone
}

void close_all(const std::vector<int>& fds) {
  for (int fd : fds) sys::close_fd(fd);
}

class Zygote {
 public:
  Zygote(int control, const SiblingForker& forker) : control_(control), forker_(forker) {}

  // Serves until the control socket ends; never returns.
  [[noreturn]] void serve() {
    for (;;) serve_one();
  }

 private:
  void serve_one() {
    ForkRequest request;
    std::vector<int> fds;
    int r = recv_with_fds(control_, &request, sizeof request, fds, kMaxForkDescriptors);
    if (r == 0) _exit(0);  // the requester closed the channel: done
    int error = r < 0 ? -r : check_fork_request(request, fds.size());
    if (error == 0 && request.requester_pid != ::getppid()) error = EINVAL;
    if (error != 0) {
      // The byte stream can no longer be trusted: answer, then stop.
      close_all(fds);
      reply(control_, error, 0, -1);
      _exit(1);
    }
    std::string bytes(request.message_size, '\0');
    if (recv_exact(control_, bytes.data(), bytes.size()) != 0) _exit(1);
    fork_child(request, bytes, fds);
    close_all(fds);
  }

  void fork_child(const ForkRequest& request, const std::string& bytes, std::vector<int>& fds) {
    ForkedTask task{};
    try {
      task.message = parse_task_message(std::as_bytes(std::span(bytes.data(), bytes.size())));
    } catch (const DecodeError&) {
      reply(control_, EINVAL, 0, -1);
      return;
    }
    // With kForkIntoCgroup the last descriptor is the child's cgroup.
    bool into_cgroup = (request.flags & kForkIntoCgroup) != 0;
    int cgroup_dir = into_cgroup ? fds.back() : -1;
    std::size_t task_fds = fds.size() - (into_cgroup ? 1 : 0);
    if (task.message.descriptor_count + 1 != task_fds) {
      reply(control_, EINVAL, 0, -1);
      return;
    }
    task.channel = fds[0];
    task.arguments = fds.data() + 1;
    task.argument_count = task_fds - 1;
    std::vector<int> keep(fds.begin(), fds.begin() + static_cast<std::ptrdiff_t>(task_fds));
    std::sort(keep.begin(), keep.end());

    ChildSetup setup;
    setup.parent_pid = ::getppid();  // the child's parent: CLONE_PARENT
    setup.death_signal = request.death_signal;
    setup.signals = {(request.flags & kForkIgnoreSigint) != 0,
                     (request.flags & kForkParentDecidesSignals) != 0};
    setup.keep_fds = keep.data();
    setup.keep_count = keep.size();
    setup.identity = &task.message.identity;
    setup.entry = run_forked_task;
    setup.context = &task;

    setup.own_group = (request.flags & kForkOwnGroup) != 0;

    int pidfd = -1;
    pid_t pid = forker_.fork(setup, &pidfd, cgroup_dir);
    if (pid < 0) {
      reply(control_, -pid, 0, -1);
      return;
    }
    reply(control_, 0, pid, pidfd);
    sys::close_fd(pidfd);
  }

  int control_;
  const SiblingForker& forker_;
};

}  // namespace

int SiblingForker::prepare() noexcept {
  if (prctl(PR_GET_TID_ADDRESS, &tid_address_) != 0 || tid_address_ == nullptr) {
    return errno != 0 ? errno : ENOSYS;
  }
  if (syscall(SYS_get_robust_list, 0, &robust_head_, &robust_length_) != 0) return errno;
  return 0;
}

pid_t SiblingForker::fork(const ChildSetup& setup, int* pidfd, int cgroup_dir) const noexcept {
  sys::BlockAllSignals blocked;
  pid_t pid = sys::clone_sibling(pidfd, tid_address_, cgroup_dir);
  if (pid == 0) {
    syscall(SYS_set_robust_list, robust_head_, robust_length_);
    t_identity = ThreadIdentity{};  // what our pthread_atfork handler would do
    run_child(setup);
  }
  return pid;
}

int zygote_main(void* config) {
  const auto& c = *static_cast<ZygoteConfig*>(config);
  prctl(PR_SET_NAME, "mp-zygote");
  // The library ends the zygote itself (closing its channel, then SIGKILL):
  // signals sent to the whole process group are the parent's to act on.
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  SiblingForker forker;
  int error = forker.prepare();
  if (error == 0 && c.preload != nullptr) {
    try {
      c.preload();
    } catch (...) {
      error = ECANCELED;
    }
  }
  (void)std::fflush(nullptr);  // children must not write the zygote's buffers again
  reply(c.control, error, ::getpid(), -1);
  if (error != 0) return 1;
  Zygote(c.control, forker).serve();
}

}  // namespace multiproc::detail
