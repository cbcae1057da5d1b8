// N processes increment one shared counter under its lock; the total is
// exact. Python's
//
//   def work(counter):
//       for _ in range(ROUNDS):
//           with counter.get_lock(): counter.value += 1
//   counter = Value('l', 0)
//
// in C++.
#include <multiproc/multiproc.hpp>

#include <iostream>
#include <mutex>
#include <vector>

namespace mp = multiproc;

constexpr int kProcesses = 4;
constexpr int kRounds = 10000;

void work(mp::Value<long> counter) {
  for (int i = 0; i < kRounds; ++i) {
    // One read-modify-write under the Value's lock (an RLock, so value()
    // and set(), which take it too, may be called while holding it).
    std::lock_guard guard(counter.get_lock());
    counter.set(counter.value() + 1);
  }
}

int main() {
  mp::Value<long> counter(0);  // shared memory and its lock, made before the fork
  std::vector<mp::Process> workers;
  for (int i = 0; i < kProcesses; ++i) workers.emplace_back(work, counter);
  for (auto& w : workers) w.start();
  for (auto& w : workers) w.join();

  long expected = long{kProcesses} * kRounds;
  std::cout << kProcesses << " processes x " << kRounds
            << " increments: counter = " << counter.value()
            << (counter.value() == expected ? " (exact)" : " (WRONG)") << std::endl;
  return counter.value() == expected ? 0 : 1;
}
