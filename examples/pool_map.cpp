// Python's classic first Pool program, in C++:
//
//   def wait_and_return(x): time.sleep(1); return x
//   with Pool(4) as p: print(p.map(wait_and_return, [1, 2, 3, 4]))
//
// Four one-second tasks on four workers take about one second.
#include <multiproc/multiproc.hpp>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace mp = multiproc;

int wait_and_return(int x) {
  std::this_thread::sleep_for(std::chrono::seconds(1));
  return x;
}

int main(int argc, char** argv) {
  mp::init(argc, argv);
  auto t0 = std::chrono::steady_clock::now();
  mp::Pool pool({.processes = 4});
  std::vector<int> results = pool.map(wait_and_return, std::vector<int>{1, 2, 3, 4});
  pool.close();
  pool.join();
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::printf("[");
  for (std::size_t i = 0; i < results.size(); ++i) std::printf(i == 0 ? "%d" : ", %d", results[i]);
  std::printf("]\nfour 1-second tasks on 4 workers took %.2f s\n", took);
  return 0;
}
