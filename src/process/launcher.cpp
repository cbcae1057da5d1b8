#include "process/launcher.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <string>
#include <string_view>

#include "multiproc/error.hpp"
#include "multiproc/init.hpp"
#include "process/child_state.hpp"
#include "process/exception_report.hpp"
#include "process/registry.hpp"
#include "start/child_setup.hpp"
#include "start/fork_launcher.hpp"
#include "start/forkserver.hpp"
#include "start/identity.hpp"
#include "start/run_target.hpp"
#include "start/spawn.hpp"
#include "start/task_message.hpp"
#include "start/zygote_client.hpp"
#include "sys/child_pidfd.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail {

namespace {

struct ChildContext {
  ProcessTarget* target;
  ExceptionReport* report;
  const char* name;
};

void record_on_page(void* report, std::string_view type, std::string_view message) {
  static_cast<ExceptionReport*>(report)->record(type, message);
}

// The fork child's entry.
int run_forked_target(void* context) {
  auto& c = *static_cast<ChildContext*>(context);
  return run_target(*c.target, c.name, {record_on_page, c.report});
}

// SIGCHLD ignored (or SA_NOCLDWAIT) makes the kernel reap children itself:
// their exit status would be lost and their PID free for reuse at once.
void require_children_reapable() {
  struct sigaction sa {};
  sigaction(SIGCHLD, nullptr, &sa);
  if (sa.sa_handler == SIG_IGN || (sa.sa_flags & SA_NOCLDWAIT) != 0) {
    throw UsageError(
        "Process::start: SIGCHLD is ignored (SIG_IGN or SA_NOCLDWAIT), so the kernel would reap "
        "the "
        "child itself and its exit status would be lost; restore SIGCHLD's default disposition");
  }
}

std::vector<int> descriptors_to_keep(const ProcessOptions& options, const ProcessTarget& target) {
  std::vector<int> fds = options.pass_fds;
  target.descriptors(fds);
  std::erase_if(fds, [](int fd) { return fd <= STDERR_FILENO; });
  std::sort(fds.begin(), fds.end());
  fds.erase(std::unique(fds.begin(), fds.end()), fds.end());
  for (int fd : fds) {
    if (::fcntl(fd, F_GETFD) < 0) {
      throw UsageError("Process::start: descriptor " + std::to_string(fd) +
                       " to pass to the child is not open");
    }
  }
  return fds;
}

}  // namespace

std::shared_ptr<ChildState> ProcessLauncher::launch(Process& p, StartMethod method) {
  require_children_reapable();
  return method == StartMethod::fork ? start_forked(p) : start_sent(p, method);
}

std::shared_ptr<ChildState> ProcessLauncher::start_forked(Process& p) {
  std::vector<int> keep = descriptors_to_keep(p.options_, *p.target_);
  auto child = std::make_shared<ChildState>(p.name_, p.options_.daemon);
  if (p.options_.contain) child->contain(contain::Tree::make());
  IdentitySeed identity =
      make_child_identity(p.name_, p.number_, p.options_.daemon, StartMethod::fork);
  ChildContext context{p.target_.get(), &child->report(), identity.name};

  ChildSetup setup;
  setup.parent_pid = ::getpid();
  setup.death_signal = p.options_.die_with_parent ? p.options_.parent_death_signal : 0;
  setup.signals = {p.options_.ignore_sigint, p.options_.parent_decides_signals};
  setup.keep_fds = keep.data();
  setup.keep_count = keep.size();
  setup.identity = &identity;
  // glibc's fork() must make this child (pthread_atfork handlers run), so it
  // moves itself into its cgroup first thing (contain/cgroup_dir.hpp).
  setup.enter_cgroup = child->tree().cgroup_fd();
  setup.own_group = child->tree().own_group();
  setup.entry = run_forked_target;
  setup.context = &context;

  pid_t pid = fork_child(setup, p.options_.allow_fork_with_threads);
  int pidfd = sys::open_child_pidfd(pid);
  if (pidfd < 0) throw SystemError("pidfd_open (pid " + std::to_string(pid) + ")", -pidfd);
  child->attach(pid, sys::UniqueFd(pidfd));
  return child;
}

SendPlan ProcessLauncher::plan_send(Process& p, StartMethod method) {
  const std::string method_name(to_string(method));
  p.require_open("start()");
  if (p.child_) throw UsageError("Process::start: process '" + p.name_ + "' was already started");
  if (!initialized()) {
    throw UsageError("Process::start: the " + method_name +
                     " start method needs multiproc::init(argc, argv) as the first statement of "
                     "main (see init.hpp)");
  }
  if (!p.options_.pass_fds.empty()) {
    throw UsageError("Process::start: pass_fds is for the fork start method; a " + method_name +
                     " child receives descriptors as shared objects passed as arguments");
  }
  WireWriter task;
  p.target_->encode(task);
  IdentitySeed identity = make_child_identity(p.name_, p.number_, p.options_.daemon, method);
  SendPlan plan;
  plan.message =
      encode_task_message(identity, task.data(), static_cast<std::uint32_t>(task.fds().size()));
  plan.descriptors = task.fds();
  plan.death_signal = p.options_.die_with_parent ? p.options_.parent_death_signal : 0;
  plan.ignore_sigint = p.options_.ignore_sigint;
  plan.parent_decides_signals = p.options_.parent_decides_signals;
  if (p.options_.contain) plan.tree = contain::Tree::make();
  return plan;
}

std::shared_ptr<ChildState> ProcessLauncher::start_sent(Process& p, StartMethod method) {
  SendPlan plan = plan_send(p, method);
  LaunchRequest request = plan.request();
  LaunchedChild launched;
  if (method == StartMethod::spawn) {
    launched = spawn_child(request);
  } else {
    launched = forkserver_child(request);
  }
  return make_sent_child(p, plan, launched);
}

std::shared_ptr<ChildState> ProcessLauncher::make_sent_child(Process& p, SendPlan& plan,
                                                             LaunchedChild& launched) {
  auto child = std::make_shared<ChildState>(p.name_, p.options_.daemon);
  child->contain(std::move(plan.tree));
  child->attach(launched.pid, std::move(launched.pidfd));
  child->attach_channel(std::move(launched.channel));
  return child;
}

void ProcessLauncher::start_via_zygote(std::span<Process* const> ps, ZygoteClient& zygote) {
  require_children_reapable();
  std::vector<SendPlan> plans;
  plans.reserve(ps.size());
  for (Process* p : ps) plans.push_back(plan_send(*p, StartMethod::forkserver));
  std::vector<LaunchRequest> requests;
  for (const SendPlan& plan : plans) requests.push_back(plan.request());
  std::vector<LaunchedChild> launched = zygote.launch_many(requests);
  for (std::size_t i = 0; i < ps.size(); ++i) {
    Process& p = *ps[i];
    auto child = make_sent_child(p, plans[i], launched[i]);
    register_child(child);
    p.child_ = std::move(child);
    p.target_.reset();
  }
}

}  // namespace multiproc::detail
