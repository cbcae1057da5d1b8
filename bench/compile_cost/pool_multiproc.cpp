// A Pool program: map, apply_async and imap from multiproc.hpp.
#include <cstdio>
#include <multiproc/multiproc.hpp>
#include <string>
#include <vector>

int square(int x) {
  return x * x;
}

std::string label(int x) {
  return "item " + std::to_string(x);
}

int main() {
  multiproc::Pool pool({.processes = 2});
  std::vector<int> squares = pool.map(square, multiproc::range(0, 100));
  std::string text = pool.apply_async(label, 7).get();
  int sum = 0;
  for (int y : pool.imap(square, multiproc::range(0, 10))) sum += y;
  std::printf("%d %s %d\n", squares[9], text.c_str(), sum);
}
