// What is specific to each start method: the forkserver's zygote (its death,
// its restart, its preload hook), spawn's re-execution (argv, shared
// libraries), the default method, and contexts.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "helpers/pidfd.hpp"
#include "helpers/shared_task_lib.hpp"
#include "helpers/test_pipe.hpp"
#include "multiproc/context.hpp"
#include "multiproc/detail/entry_point.hpp"
#include "multiproc/detail/process_target.hpp"
#include "multiproc/error.hpp"
#include "multiproc/init.hpp"
#include "start/forkserver.hpp"

namespace mp = multiproc;

namespace {

int g_preloaded = 0;
void preload() {
  g_preloaded = 42;
}
int return_preloaded() {
  return g_preloaded;
}

int return_code(int code) {
  return code;
}

std::string argv0_of(const std::string& cmdline_path) {
  std::ifstream in(cmdline_path);
  std::string first;
  std::getline(in, first, '\0');
  return first;
}

void send_argv0(mp::Connection out) {
  out.send(argv0_of("/proc/self/cmdline"));
}

// Restarts the test binary's zygote at the end of a test that replaced it,
// so that the next test finds the same service.
struct RestoreForkserver {
  ~RestoreForkserver() {
    mp::detail::stop_forkserver();
    mp::detail::start_forkserver(nullptr);
  }
};

}  // namespace

TEST(Forkserver, PreloadRunsInTheZygoteBeforeItServes) {
  RestoreForkserver restore;
  mp::detail::stop_forkserver();
  mp::detail::start_forkserver(preload);
  EXPECT_EQ(g_preloaded, 0);  // not here: in the zygote
  mp::Process p = mp::get_context(mp::StartMethod::forkserver).Process(return_preloaded);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 42);
}

TEST(Forkserver, ADeadZygoteIsAClearErrorAndTheNextStartReplacesIt) {
  RestoreForkserver restore;
  auto zygote = mp::detail::forkserver_pid();
  ASSERT_TRUE(zygote.has_value());
  int pidfd = mp::testing::pidfd_open(*zygote);
  ASSERT_GE(pidfd, 0);
  mp::testing::pidfd_kill(pidfd);
  ASSERT_TRUE(mp::testing::wait_readable(pidfd));
  ::close(pidfd);

  auto ctx = mp::get_context(mp::StartMethod::forkserver);
  mp::Process first = ctx.Process(return_code, 1);
  try {
    first.start();
    FAIL() << "a start through a dead zygote succeeded";
  } catch (const mp::Error& e) {
    EXPECT_NE(std::string(e.what()).find("zygote (pid " + std::to_string(*zygote) + ")"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("SIGKILL"), std::string::npos) << e.what();
  }
  mp::Process second = ctx.Process(return_code, 2);
  second.start();  // a new zygote: this process is single-threaded
  second.join();
  EXPECT_EQ(second.exitcode(), 2);
  EXPECT_NE(mp::detail::forkserver_pid(), zygote);
}

TEST(Forkserver, LazyStartIsRefusedOnceThreadsExist) {
  RestoreForkserver restore;
  mp::detail::stop_forkserver();
  mp::Event stop;
  std::thread other([&stop] { stop.wait(); });
  mp::Process p = mp::get_context(mp::StartMethod::forkserver).Process(return_code, 1);
  try {
    p.start();
    ADD_FAILURE() << "the zygote was forked from a threaded process";
  } catch (const mp::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("mp::init(argc, argv, {.forkserver = true});"),
              std::string::npos)
        << e.what();
  }
  stop.set();
  other.join();
}

TEST(Forkserver, ZygoteEndsWithTheControlChannelAndIsReaped) {
  RestoreForkserver restore;
  auto zygote = mp::detail::forkserver_pid();
  ASSERT_TRUE(zygote.has_value());
  int pidfd = mp::testing::pidfd_open(*zygote);
  mp::detail::stop_forkserver();
  EXPECT_FALSE(mp::detail::forkserver_pid().has_value());
  // Reaped: the PID no longer names a process (a pidfd of a reaped process
  // is readable and signals fail with ESRCH).
  EXPECT_TRUE(mp::testing::wait_readable(pidfd, 0));
  EXPECT_NE(mp::testing::pidfd_kill(pidfd), 0);
  ::close(pidfd);
}

TEST(Spawn, ChildRunsTheSameProgramWithTheSameArgv0) {
  auto [in, out] = mp::Pipe(false);
  mp::Process p = mp::get_context(mp::StartMethod::spawn).Process(send_argv0, std::move(out));
  p.start();
  EXPECT_EQ(in.recv<std::string>(), argv0_of("/proc/self/cmdline"));
  p.join();
}

TEST(StartMethods, FunctionsInASharedLibraryRunUnderEveryMethod) {
  for (auto method : {mp::StartMethod::fork, mp::StartMethod::spawn, mp::StartMethod::forkserver}) {
    mp::Process p = mp::get_context(method).Process(mp_test_library_triple, 14);
    p.start();
    p.join();
    EXPECT_EQ(p.exitcode(), 42) << mp::to_string(method);
  }
}

TEST(StartMethods, AFunctionOfALibraryLoadedWithDlopenIsFoundByTheChild) {
  // The spawned program does not load this library by itself: the child
  // loads it by the path the parent's dynamic linker recorded.
  void* lib = dlopen(MP_TEST_DLOPEN_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  using Fn = int (*)(int);
  auto fn = reinterpret_cast<Fn>(dlsym(lib, "mp_test_dlopen_negate_plus"));
  ASSERT_NE(fn, nullptr);
  for (auto method : {mp::StartMethod::spawn, mp::StartMethod::forkserver}) {
    mp::Process p = mp::get_context(method).Process(fn, 10);
    p.start();
    p.join();
    EXPECT_EQ(p.exitcode(), 90) << mp::to_string(method);
  }
}

// RELIABILITY 27: bytes from another process can name only a registered
// trampoline as the code to run first, and can make a child load only a
// library its parent has loaded.
int plain_function(int x) {
  return x + 1;
}

TEST(CodeRefs, OnlyRegisteredEntryPointsResolveAsTrampolines) {
  namespace d = mp::detail;
  using Decoder = d::ProcessTarget* (*)(d::WireReader&);
  Decoder decoder = d::registered_entry<&d::decode_target<int (*)(int), int>>();
  auto good = d::code_ref(reinterpret_cast<const void*>(decoder));
  EXPECT_EQ(d::resolve_entry<d::ProcessTarget*(d::WireReader&)>(good), decoder);
  // Executable code of the program, but not an entry point: refused.
  auto other = d::code_ref(reinterpret_cast<const void*>(&plain_function));
  EXPECT_EQ(d::resolve_code(other), reinterpret_cast<const void*>(&plain_function));
  EXPECT_THROW(d::resolve_entry_address(other), mp::DecodeError);
  EXPECT_THROW(d::resolve_entry_address({good.object, good.offset + 1}), mp::DecodeError);
}

int load_in_child(std::string path, std::uint64_t offset) {
  try {
    (void)mp::detail::resolve_code({path, offset});
    return 0;
  } catch (const mp::DecodeError&) {
    return 7;
  }
}

// In a child (so that this process does not load the library): the code
// reference of the library's function.
void report_dlopen_function(const mp::testing::TestPipe& out) {
  void* lib = dlopen(MP_TEST_DLOPEN_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  auto ref = mp::detail::code_ref(dlsym(lib, "mp_test_dlopen_negate_plus"));
  out.write(ref.object + "\n" + std::to_string(ref.offset) + "\n");
}

TEST(CodeRefs, AChildLoadsOnlyALibraryItsParentHasLoaded) {
  mp::testing::TestPipe pipe;
  mp::Process reporter(report_dlopen_function, std::cref(pipe));
  reporter.start();
  reporter.join();
  std::string text = pipe.read_all();
  auto nl = text.find('\n');
  std::string object = text.substr(0, nl);
  std::uint64_t offset = std::stoull(text.substr(nl + 1));
  // The parent has not loaded the library: the child refuses to.
  mp::Process refused(load_in_child, object, offset);
  refused.start();
  refused.join();
  EXPECT_EQ(refused.exitcode(), 7);
  // Once the parent has, the same reference resolves in a child.
  void* lib = dlopen(MP_TEST_DLOPEN_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr);
  mp::Process allowed(load_in_child, object, offset);
  allowed.start();
  allowed.join();
  EXPECT_EQ(allowed.exitcode(), 0);
}

TEST(StartMethods, DefaultIsForkAndSetStartMethodChangesItOnce) {
  EXPECT_EQ(mp::get_start_method(), mp::StartMethod::fork);
  EXPECT_EQ(mp::get_context().start_method(), mp::StartMethod::fork);
  mp::set_start_method(mp::StartMethod::forkserver);
  EXPECT_THROW(mp::set_start_method(mp::StartMethod::spawn), mp::UsageError);
  EXPECT_EQ(mp::get_start_method(), mp::StartMethod::forkserver);
  mp::Process p(return_code, 3);  // no method given: the default
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 3);
  mp::set_start_method(mp::StartMethod::fork, true);
  EXPECT_EQ(mp::get_start_method(), mp::StartMethod::fork);
}

TEST(StartMethods, NamesRoundTrip) {
  for (auto method : {mp::StartMethod::fork, mp::StartMethod::spawn, mp::StartMethod::forkserver}) {
    EXPECT_EQ(mp::parse_start_method(mp::to_string(method)), method);
  }
  EXPECT_EQ(mp::parse_start_method("vfork"), std::nullopt);
}

TEST(StartMethods, InitTwiceIsAUsageError) {
  EXPECT_TRUE(mp::initialized());
  char name[] = "again";
  char* argv[] = {name, nullptr};
  EXPECT_THROW(mp::init(1, argv), mp::UsageError);
}

TEST(StartMethods, PassFdsIsForForkOnly) {
  mp::Process p = mp::get_context(mp::StartMethod::spawn)
                      .Process(mp::ProcessOptions{.pass_fds = {0}}, return_code, 0);
  EXPECT_THROW(p.start(), mp::UsageError);
}

TEST(StartMethods, AnArgumentThatCannotBeSentIsAUsageErrorAtStart) {
  int local = 1;
  mp::Process p =
      mp::get_context(mp::StartMethod::forkserver).Process([](int* q) { return *q; }, &local);
  try {
    p.start();
    FAIL() << "a pointer was sent";
  } catch (const mp::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("serializable"), std::string::npos) << e.what();
  }
}
