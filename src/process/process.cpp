#include "multiproc/process.hpp"

#include <unistd.h>

#include <cerrno>
#include <exception>

#include "multiproc/error.hpp"
#include "process/child_state.hpp"
#include "process/launcher.hpp"
#include "process/registry.hpp"
#include "start/identity.hpp"
#include "sys/syscall.hpp"

namespace multiproc {

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
      closed_(o.closed_) {}

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
  StartMethod method = options_.start_method.value_or(get_start_method());
  std::shared_ptr<detail::ChildState> child = detail::ProcessLauncher::launch(*this, method);
  detail::register_child(child);
  child_ = std::move(child);
  target_.reset();  // the parent's copies of the arguments are no longer needed
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
