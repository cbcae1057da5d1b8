#include "multiproc/process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "multiproc/error.hpp"
#include "multiproc/init.hpp"
#include "process/child_state.hpp"
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

namespace multiproc {

void detail::use_zygote(Process& p, ZygoteClient* zygote) noexcept {
  p.zygote_ = zygote;
}

namespace {

struct ChildContext {
  detail::ProcessTarget* target;
  detail::ExceptionReport* report;
  const char* name;
};

void record_on_page(void* report, std::string_view type, std::string_view message) {
  static_cast<detail::ExceptionReport*>(report)->record(type, message);
}

// The fork child's entry.
int run_forked_target(void* context) {
  auto& c = *static_cast<ChildContext*>(context);
  return detail::run_target(*c.target, c.name, {record_on_page, c.report});
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

std::vector<int> descriptors_to_keep(const ProcessOptions& options,
                                     const detail::ProcessTarget& target) {
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

Process::Process(ProcessOptions options, std::unique_ptr<detail::ProcessTarget> target)
    : options_(std::move(options)), target_(std::move(target)) {
  int number = 0;
  std::string default_name = detail::next_child_name(number);
  name_ = options_.name.empty() ? std::move(default_name) : options_.name;
  number_ = number;
}

Process::~Process() {
  release();
}

Process::Process(Process&& o) noexcept
    : options_(std::move(o.options_)),
      name_(std::move(o.name_)),
      number_(o.number_),
      target_(std::move(o.target_)),
      child_(std::move(o.child_)),
      exception_(std::move(o.exception_)),
      closed_(o.closed_),
      zygote_(o.zygote_) {}

Process& Process::operator=(Process&& o) noexcept {
  if (this != &o) {
    release();
    options_ = std::move(o.options_);
    name_ = std::move(o.name_);
    number_ = o.number_;
    target_ = std::move(o.target_);
    child_ = std::move(o.child_);
    exception_ = std::move(o.exception_);
    closed_ = o.closed_;
    zygote_ = o.zygote_;
  }
  return *this;
}

void Process::release() noexcept {
  if (!child_) return;
  try {
    // Python's exit rule, applied when the handle goes: a running daemon is
    // terminated, another child joined (bounded), and either way reaped.
    if (!child_->try_reap()) detail::end_children({child_});
  } catch (...) {
    // A copy of the handle in another process, or a failing system call:
    // nothing more can be done here, and a destructor must not throw.
  }
  detail::unregister_child(child_.get());
  child_.reset();
}

void Process::start() {
  require_open("start()");
  if (child_) throw UsageError("Process::start: process '" + name_ + "' was already started");
  require_children_reapable();
  StartMethod method = options_.start_method.value_or(get_start_method());
  std::shared_ptr<detail::ChildState> child =
      method == StartMethod::fork ? fork_child(descriptors_to_keep(options_, *target_))
                                  : send_child(method);
  detail::register_child(child);
  child_ = std::move(child);
  target_.reset();  // the parent's copies of the arguments are no longer needed
}

std::shared_ptr<detail::ChildState> Process::fork_child(std::vector<int> keep) {
  auto child = std::make_shared<detail::ChildState>(name_, options_.daemon);
  detail::IdentitySeed identity =
      detail::make_child_identity(name_, number_, options_.daemon, StartMethod::fork);
  ChildContext context{target_.get(), &child->report(), identity.name};

  detail::ChildSetup setup;
  setup.parent_pid = ::getpid();
  setup.death_signal = options_.die_with_parent ? options_.parent_death_signal : 0;
  setup.signals = {options_.ignore_sigint, options_.parent_decides_signals};
  setup.keep_fds = keep.data();
  setup.keep_count = keep.size();
  setup.identity = &identity;
  setup.entry = run_forked_target;
  setup.context = &context;

  pid_t pid = detail::fork_child(setup, options_.allow_fork_with_threads);
  int pidfd = sys::open_child_pidfd(pid);
  if (pidfd < 0) throw SystemError("pidfd_open (pid " + std::to_string(pid) + ")", -pidfd);
  child->attach(pid, sys::UniqueFd(pidfd));
  return child;
}

detail::SendPlan Process::plan_send(StartMethod method) {
  const std::string method_name(to_string(method));
  require_open("start()");
  if (child_) throw UsageError("Process::start: process '" + name_ + "' was already started");
  if (!initialized()) {
    throw UsageError("Process::start: the " + method_name +
                     " start method needs multiproc::init(argc, argv) as the first statement of "
                     "main (see init.hpp)");
  }
  if (!options_.pass_fds.empty()) {
    throw UsageError("Process::start: pass_fds is for the fork start method; a " + method_name +
                     " child receives descriptors as shared objects passed as arguments");
  }
  detail::WireWriter task;
  target_->encode(task);
  detail::IdentitySeed identity =
      detail::make_child_identity(name_, number_, options_.daemon, method);
  detail::SendPlan plan;
  plan.message = detail::encode_task_message(identity, task.data(),
                                             static_cast<std::uint32_t>(task.fds().size()));
  plan.descriptors = task.fds();
  plan.death_signal = options_.die_with_parent ? options_.parent_death_signal : 0;
  plan.ignore_sigint = options_.ignore_sigint;
  plan.parent_decides_signals = options_.parent_decides_signals;
  return plan;
}

std::shared_ptr<detail::ChildState> Process::send_child(StartMethod method) {
  detail::SendPlan plan = plan_send(method);
  detail::LaunchRequest request{&plan.message,
                                plan.descriptors,
                                plan.death_signal,
                                {plan.ignore_sigint, plan.parent_decides_signals}};
  detail::LaunchedChild launched;
  if (zygote_ != nullptr) {
    launched = zygote_->launch(request);
  } else if (method == StartMethod::spawn) {
    launched = detail::spawn_child(request);
  } else {
    launched = detail::forkserver_child(request);
  }
  auto child = std::make_shared<detail::ChildState>(name_, options_.daemon);
  child->attach(launched.pid, std::move(launched.pidfd));
  child->attach_channel(std::move(launched.channel));
  return child;
}

void Process::adopt_sent(pid_t pid, int pidfd, int channel) {
  auto child = std::make_shared<detail::ChildState>(name_, options_.daemon);
  child->attach(pid, sys::UniqueFd(pidfd));
  child->attach_channel(sys::UniqueFd(channel));
  detail::register_child(child);
  child_ = std::move(child);
  target_.reset();
}

void detail::start_via_zygote(std::span<Process* const> ps, ZygoteClient& zygote) {
  require_children_reapable();
  std::vector<SendPlan> plans;
  plans.reserve(ps.size());
  for (Process* p : ps) plans.push_back(p->plan_send(StartMethod::forkserver));
  std::vector<LaunchRequest> requests;
  for (const SendPlan& plan : plans) {
    requests.push_back({&plan.message,
                        plan.descriptors,
                        plan.death_signal,
                        {plan.ignore_sigint, plan.parent_decides_signals}});
  }
  std::vector<LaunchedChild> launched = zygote.launch_many(requests);
  for (std::size_t i = 0; i < ps.size(); ++i) {
    LaunchedChild& c = launched[i];
    ps[i]->adopt_sent(c.pid, c.pidfd.release(), c.channel.release());
  }
}

void Process::require_open(const char* operation) const {
  if (closed_) {
    throw UsageError(std::string(operation) + ": process object '" + name_ +
                     "' is closed (close() was called)");
  }
}

void Process::require_started(const char* operation) const {
  require_open(operation);
  if (!child_)
    throw UsageError(std::string(operation) + ": process '" + name_ + "' was not started");
}

void Process::collect_result() {
  exception_ = child_->read_exception();
  detail::unregister_child(child_.get());
}

void Process::join() {
  require_started("join()");
  if (child_->wait(sys::Deadline::never())) collect_result();
}

bool Process::join(std::chrono::nanoseconds timeout) {
  require_started("join()");
  if (!child_->wait(sys::Deadline::after(timeout))) return false;
  collect_result();
  return true;
}

bool Process::is_alive() {
  require_open("is_alive()");
  if (!child_) return false;
  if (!child_->try_reap()) return true;
  collect_result();
  return false;
}

std::optional<ExitStatus> Process::exit_status() {
  require_open("exitcode()");
  if (!child_) return std::nullopt;
  if (child_->try_reap()) collect_result();
  return child_->status();
}

std::optional<int> Process::exitcode() {
  auto s = exit_status();
  return s ? std::optional<int>(s->exitcode()) : std::nullopt;
}

void Process::terminate() {
  require_started("terminate()");
  child_->signal(SIGTERM);
}

void Process::kill() {
  require_started("kill()");
  child_->signal(SIGKILL);
}

void Process::interrupt() {
  require_started("interrupt()");
  child_->signal(SIGINT);
}

void Process::stop(std::chrono::nanoseconds grace) {
  require_open("stop()");
  if (!child_) return;
  child_->stop(grace);
  collect_result();
}

std::optional<pid_t> Process::pid() const {
  require_open("pid()");
  return child_ ? std::optional<pid_t>(child_->pid()) : std::nullopt;
}

void Process::set_name(std::string name) {
  name_ = std::move(name);
}

void Process::set_daemon(bool daemon) {
  if (child_ || closed_)
    throw UsageError("Process::set_daemon: process '" + name_ + "' was already started");
  options_.daemon = daemon;
}

int Process::sentinel() const {
  require_started("sentinel()");
  return child_->pidfd();
}

void Process::close() {
  if (closed_) return;
  if (child_) {
    if (!child_->try_reap()) {
      throw UsageError("Process::close: process '" + name_ + "' (pid " +
                       std::to_string(child_->pid()) + ") is still running; join or stop it first");
    }
    collect_result();
    child_->close_pidfd();
  }
  closed_ = true;
}

}  // namespace multiproc
