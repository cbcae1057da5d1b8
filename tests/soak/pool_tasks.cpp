// The pool part's tasks and the outcome each kind must end with.
#include "soak/pool_tasks.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "multiproc/error.hpp"

namespace soak {

namespace mp = multiproc;

namespace {
// In each worker: where tasks report their start.
std::optional<mp::Queue<StartRecord>> g_started;
}  // namespace

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::ok:
      return "ok";
    case Kind::slow:
      return "slow";
    case Kind::throws:
      return "throws";
    case Kind::segv:
      return "segfaults";
    case Kind::abort:
      return "aborts";
    case Kind::exit3:
      return "exit(3)";
    case Kind::hang:
      return "hangs";
    case Kind::alloc:
      return "allocates 48 MiB";
    case Kind::count:
      break;
  }
  return "?";
}

std::string expected_message(std::int64_t id) {
  return "std::runtime_error: soak task " + std::to_string(id) + " throws";
}

void worker_init(mp::Queue<StartRecord> started) {
  g_started.emplace(std::move(started));
}

std::int64_t soak_task(std::int64_t code) {
  std::int64_t id = code / 16;
  auto kind = static_cast<Kind>(code % 16);
  if (g_started) g_started->put(StartRecord{id, ::getpid()});
  switch (kind) {
    case Kind::ok:
      break;
    case Kind::slow:
      std::this_thread::sleep_for(std::chrono::milliseconds(1 + id % 40));
      break;
    case Kind::throws:
      throw std::runtime_error("soak task " + std::to_string(id) + " throws");
    case Kind::segv:
      ::raise(SIGSEGV);
      break;
    case Kind::abort:
      std::abort();
    case Kind::exit3:
      std::exit(3);
    case Kind::hang:
      for (;;) ::pause();
    case Kind::alloc: {
      std::vector<char> big(std::size_t{48} << 20, 1);  // touched: resident
      long sum = 0;
      for (std::size_t i = 0; i < big.size(); i += 4096) sum += big[i];
      if (sum != static_cast<long>(big.size() / 4096)) return -1;
      break;
    }
    case Kind::count:
      return -1;
  }
  return expected_value(id);
}

Seen classify(std::int64_t value, const std::exception_ptr& error) {
  Seen s;
  if (!error) {
    s.value = value;
    return s;
  }
  try {
    std::rethrow_exception(error);
  } catch (const mp::WorkerLost& e) {
    s.what = Seen::What::lost;
    s.pid = e.pid();
    s.status = e.status();
    s.text = e.what();
  } catch (const mp::TaskTimeoutError& e) {
    s.what = Seen::What::timeout;
    s.pid = e.pid();
    s.text = e.what();
  } catch (const mp::RemoteError& e) {
    s.what = Seen::What::remote;
    s.pid = e.info().pid;
    s.text = e.info().type + ": " + e.info().message;
  } catch (const std::exception& e) {
    s.what = Seen::What::other;
    s.text = e.what();
  } catch (...) {
    s.what = Seen::What::other;
    s.text = "an exception that is not a std::exception";
  }
  return s;
}

std::string outcome_label(const Seen& s) {
  switch (s.what) {
    case Seen::What::value:
      return "value";
    case Seen::What::remote:
      return "RemoteError";
    case Seen::What::timeout:
      return "TaskTimeoutError";
    case Seen::What::lost:
      if (s.status.killed()) return "WorkerLost(" + mp::signal_name(s.status.value) + ")";
      return "WorkerLost(exit " + std::to_string(s.status.value) + ")";
    case Seen::What::other:
      return "other error";
  }
  return "?";
}

bool outcome_matches(Kind kind, std::int64_t id, const Seen& s) {
  auto killed_by = [&](int signo) {
    return s.what == Seen::What::lost && s.status.killed() && s.status.value == signo;
  };
  switch (kind) {
    case Kind::ok:
    case Kind::slow:
    case Kind::alloc:
      return s.what == Seen::What::value && s.value == expected_value(id);
    case Kind::throws:
      return s.what == Seen::What::remote && s.text == expected_message(id);
    case Kind::segv:
      return killed_by(SIGSEGV);
    case Kind::abort:
      return killed_by(SIGABRT);
    case Kind::exit3:
      return s.what == Seen::What::lost && s.status == mp::ExitStatus::exited_with(3);
    case Kind::hang:
      return s.what == Seen::What::timeout;
    case Kind::count:
      break;
  }
  return false;
}

}  // namespace soak
