// Two processes bounce a message over a Pipe; then the child's end closes and
// the parent sees end-of-file instead of waiting forever.
#include <multiproc/multiproc.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace mp = multiproc;

constexpr int kRounds = 10000;

void player(mp::Connection& conn) {
  for (int i = 0; i < kRounds; ++i) conn.send(conn.recv<int>() + 1);
  conn.send(std::string("child done"));
}

int main() {
  auto [mine, theirs] = mp::Pipe();
  mp::Process child(player, std::move(theirs));  // moved: our copy closes at start()
  child.start();

  auto t0 = std::chrono::steady_clock::now();
  int ball = 0;
  for (int i = 0; i < kRounds; ++i) {
    mine.send(ball);
    ball = mine.recv<int>();
  }
  auto us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "ping-pong: " << kRounds << " round trips, ball = " << ball << ", " << us / kRounds
            << " us per round trip" << std::endl;
  std::cout << "child says: " << mine.recv<std::string>() << std::endl;

  child.join();
  try {
    mine.recv<int>();
  } catch (const mp::EOFError&) {
    std::cout << "after the child exited, recv raised EOFError at once" << std::endl;
  }
  return ball == kRounds ? 0 : 1;
}
