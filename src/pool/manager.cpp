// The manager thread (engine.hpp): between sleeps it collects results,
// buries dead workers, runs the watchdogs, replaces workers and dispatches;
// it sleeps in poll() until a worker dies or posts, someone submits, or a
// deadline comes.
#include <poll.h>
#include <unistd.h>

#include "pool/control_block.hpp"
#include "pool/engine.hpp"

namespace multiproc::detail::pool {

void Engine::manager_loop() {
  sys::MutexLock lock(mu_);
  std::vector<pollfd> fds;
  std::vector<WorkerSlot*> polled;
  while (!stop_manager_) {
    collect();
    bury_dead();
    watchdog_.check(workers_, monotonic_ns());
    refill_workers();
    dispatch();

    fds.assign(1, pollfd{wake_fd_.get(), POLLIN, 0});
    polled.clear();
    for (auto& w : workers_) {
      fds.push_back({w->handle->death_fd(), POLLIN, 0});
      polled.push_back(w.get());
    }
    // While a waiting thread collects, results need not wake the manager.
    bool watch_results = spinning_ == 0;
    bool ready = false;
    if (watch_results) {
      for (WorkerSlot* w : polled) {
        bool waiting = false;
        fds.push_back({w->handle->watch_messages(waiting), POLLIN, 0});
        ready = waiting || ready;
      }
    }
    int timeout = ready ? 0 : watchdog_.next_check_ms(workers_, monotonic_ns());
    manager_sleeping_ = true;
    run_callbacks();
    mu_.unlock();
    int n = ::poll(fds.data(), fds.size(), timeout);
    mu_.lock();
    manager_sleeping_ = false;
    if (watch_results) {
      for (WorkerSlot* w : polled) w->handle->unwatch_messages();
    }
    if (stop_manager_) break;
    if (n > 0 && (fds[0].revents & POLLIN) != 0) {
      std::uint64_t count;
      (void)!::read(wake_fd_.get(), &count, sizeof count);
    }
    for (std::size_t i = 0; n > 0 && i < polled.size(); ++i) {
      if (fds[i + 1].revents != 0) polled[i]->dead = true;
    }
  }
  run_callbacks();
}

}  // namespace multiproc::detail::pool
