#include "start/forkserver.hpp"

#include <atomic>
#include <cstdlib>

#include "start/zygote_client.hpp"

namespace multiproc::detail {
namespace {

std::atomic<ZygoteClient*> g_instance{nullptr};

// Never destroyed: the exit handler stops it, and children started during
// exit still reach it.
ZygoteClient& instance() {
  static ZygoteClient* z = [] {
    auto* client = new ZygoteClient("forkserver", true);
    client->set_start_hint(
        "the forkserver starts too late once threads exist: write "
        "`mp::init(argc, argv, {.forkserver = true});` first thing in main, before any "
        "thread is started");
    std::atexit(stop_forkserver);
    g_instance.store(client);
    return client;
  }();
  return *z;
}

}  // namespace

void forget_forkserver_after_fork() noexcept {
  if (ZygoteClient* z = g_instance.load()) z->reset_after_fork();
}

void start_forkserver(void (*preload)()) {
  instance().set_preload(preload);
  instance().start();
}

void set_forkserver_preload(void (*preload)()) noexcept {
  instance().set_preload(preload);
}

LaunchedChild forkserver_child(const LaunchRequest& request) {
  return instance().launch(request);
}

std::optional<pid_t> forkserver_pid() {
  return instance().pid();
}

void stop_forkserver() noexcept {
  instance().stop();
}

void stop_own_forkserver() noexcept {
  if (ZygoteClient* z = g_instance.load()) z->stop();  // a no-op for an inherited one
}

}  // namespace multiproc::detail
