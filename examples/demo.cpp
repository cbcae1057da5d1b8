// make demo: multiproc at work. Each section says what it shows.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
#include <multiproc/multiproc.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

int collatz_steps(long n) {
  int steps = 0;
  for (; n != 1; ++steps) n = n % 2 ? 3 * n + 1 : n / 2;
  return steps % 256;  // the result travels back as the exit code
}

void parse_config() {
  throw std::runtime_error("config.yaml: line 3: expected a mapping");
}

void crash() {
  void* page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  *static_cast<volatile int*>(page) = 1;
}

int collatz_length(long n) {
  int steps = 0;
  for (; n != 1; ++steps) n = n % 2 ? 3 * n + 1 : n / 2;
  return steps;
}

int crash_on_13(long n) {
  if (n == 13) crash();
  return collatz_length(n);
}

// A progress bar for Pool::map's progress hook, redrawn in place.
void draw_progress(std::size_t done, std::size_t total) {
  constexpr int width = 40;
  int filled = total == 0 ? 0 : static_cast<int>(width * done / total);
  std::cout << "\r  [" << std::string(static_cast<std::size_t>(filled), '#')
            << std::string(static_cast<std::size_t>(width - filled), ' ') << "] " << done << "/"
            << total << std::flush;
  if (done == total) std::cout << std::endl;
}

void section(const char* title) {
  std::cout << "\n== " << title << " ==" << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  mp::init(argc, argv);
  std::cout << "multiproc demo: processes with Python's semantics, none of its leaks\n"
            << "main process: " << mp::current_process().name << " (pid " << getpid() << ")"
            << std::endl;

  section("1. several children run at once; each exit code comes back exactly");
  std::vector<mp::Process> children;
  for (long n : {27L, 97L, 871L}) children.emplace_back(collatz_steps, n);
  for (auto& p : children) p.start();
  for (auto& p : children) {
    p.join();
    std::cout << "  " << p.name() << " (pid " << *p.pid() << "): " << p.exit_status()->describe()
              << std::endl;
  }

  section("2. an exception thrown in a child reaches the parent");
  mp::Process thrower(parse_config);
  thrower.start();
  thrower.join();
  std::cout << "  exitcode " << *thrower.exitcode()
            << "; exception: " << thrower.exception()->describe() << std::endl;

  section("3. a child that never ends is terminated");
  mp::Process sleeper([] {
    for (;;) pause();
  });
  sleeper.start();
  std::cout << "  join(100ms) ended it? " << (sleeper.join(100ms) ? "yes" : "no") << std::endl;
  sleeper.terminate();
  sleeper.join();
  std::cout << "  after terminate(): exitcode " << *sleeper.exitcode() << " ("
            << sleeper.exit_status()->describe() << ")" << std::endl;

  section("4. a child that ignores SIGTERM is stopped anyway: SIGTERM, grace, SIGKILL");
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return 1;
  mp::Process stubborn(
      mp::ProcessOptions{.pass_fds = {ready[1]}},
      [](int ready_fd) {
        signal(SIGTERM, SIG_IGN);
        (void)!write(ready_fd, "r", 1);  // tell the parent SIGTERM is ignored now
        for (;;) pause();
      },
      ready[1]);
  stubborn.start();
  close(ready[1]);
  char byte;
  (void)!read(ready[0], &byte, 1);
  close(ready[0]);
  auto t0 = std::chrono::steady_clock::now();
  stubborn.stop(200ms);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::cout << "  stop(200ms) took " << ms.count() << " ms: " << stubborn.exit_status()->describe()
            << std::endl;

  section("5. a crash stays in its process");
  mp::Process crasher(crash);
  crasher.start();
  crasher.join();
  std::cout << "  " << crasher.exit_status()->describe() << "; the parent carries on" << std::endl;

  section("6. a Queue carries results from several children; a Pipe reports its peer's death");
  mp::Queue<std::pair<int, long>> results;
  std::vector<mp::Process> workers;
  for (int id = 0; id < 3; ++id) {
    workers.emplace_back(
        [](mp::Queue<std::pair<int, long>> out, int worker) {
          long sum = 0;
          for (long i = 0; i <= 1'000'000L * (worker + 1); ++i) sum += i;
          out.put({worker, sum});
        },
        results, id);
  }
  for (auto& w : workers) w.start();
  for (int i = 0; i < 3; ++i) {
    auto [worker, sum] = results.get();
    std::cout << "  worker " << worker << " sent " << sum << std::endl;
  }
  for (auto& w : workers) w.join();
  auto [here, there] = mp::Pipe();
  mp::Process doomed([](mp::Connection&) { std::abort(); }, std::move(there));
  doomed.start();
  try {
    here.recv<int>();
  } catch (const mp::EOFError&) {
    doomed.join();
    std::cout << "  the peer " << doomed.exit_status()->describe()
              << "; recv raised EOFError at once instead of hanging" << std::endl;
  }

  section("7. a Pool maps 200,000 tasks over every CPU, with a progress bar");
  {
    mp::Pool pool;  // one worker per CPU
    auto started = std::chrono::steady_clock::now();
    std::vector<long> starts(200'000);
    std::iota(starts.begin(), starts.end(), 1L);
    auto lengths =
        pool.map(collatz_length, starts, {.chunksize = 2'000, .progress = draw_progress});
    double took =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    auto longest = static_cast<std::size_t>(std::max_element(lengths.begin(), lengths.end()) -
                                            lengths.begin());
    std::cout << "  " << pool.processes() << " workers, " << static_cast<long>(took)
              << " ms; longest chain below "
              << "200,000 starts at " << longest + 1 << " (" << lengths[longest] << " steps)"
              << std::endl;

    auto outcomes = pool.map_outcomes(crash_on_13, std::vector<long>{11, 12, 13, 14});
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      std::cout << "  task " << 11 + i << ": "
                << (outcomes[i].ok() ? std::to_string(outcomes[i].value()) + " steps"
                                     : outcomes[i].describe())
                << std::endl;
    }
    pool.close();
    pool.join();
  }

  std::cout << "\nchildren still running: " << mp::active_children().size() << "\ndemo finished"
            << std::endl;
}
