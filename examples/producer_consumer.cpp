// N producers and M consumers share one Queue; every item is accounted for
// exactly once. Each consumer reports what it took; the parent checks the
// totals.
#include <multiproc/multiproc.hpp>

#include <iostream>
#include <utility>
#include <vector>

namespace mp = multiproc;

constexpr int kProducers = 3;
constexpr int kConsumers = 2;
constexpr int kItemsEach = 10000;
constexpr int kStop = -1;

void produce(mp::Queue<int> jobs, int first) {
  for (int i = 0; i < kItemsEach; ++i) jobs.put(first + i);
}

// Takes items until the stop marker; reports (count, sum).
void consume(mp::Queue<int> jobs, mp::Queue<std::pair<long, long>> report) {
  long count = 0, sum = 0;
  for (int item = jobs.get(); item != kStop; item = jobs.get()) {
    ++count;
    sum += item;
  }
  report.put({count, sum});
}

int main() {
  mp::Queue<int> jobs;
  mp::Queue<std::pair<long, long>> report;
  std::vector<mp::Process> producers, consumers;
  for (int p = 0; p < kProducers; ++p) producers.emplace_back(produce, jobs, p * kItemsEach);
  for (int c = 0; c < kConsumers; ++c) consumers.emplace_back(consume, jobs, report);
  for (auto& p : producers) p.start();
  for (auto& c : consumers) c.start();

  for (auto& p : producers) p.join();
  for (int c = 0; c < kConsumers; ++c) jobs.put(kStop);  // one stop marker each
  long count = 0, sum = 0;
  for (int c = 0; c < kConsumers; ++c) {
    auto [n, s] = report.get();
    std::cout << "consumer took " << n << " items" << std::endl;
    count += n;
    sum += s;
  }
  for (auto& c : consumers) c.join();

  long expected_count = long{kProducers} * kItemsEach;
  long expected_sum = expected_count * (expected_count - 1) / 2;
  std::cout << "produced " << expected_count << ", consumed " << count
            << (count == expected_count && sum == expected_sum ? ": every item exactly once"
                                                               : ": MISMATCH")
            << std::endl;
  return count == expected_count && sum == expected_sum ? 0 : 1;
}
