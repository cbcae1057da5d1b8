// A program that spawns children: the part of main after init must run once,
// in the parent only, whatever the children do. Each process appends a line
// to the file named by argv[1]; the parent then checks the file.
#include <multiproc/multiproc.hpp>

#include <fstream>
#include <iostream>
#include <string>

namespace mp = multiproc;

namespace {

void append(const std::string& path, const std::string& line) {
  std::ofstream(path, std::ios::app) << line << '\n';
}

void child(std::string path) {
  append(path, "child");
}

}  // namespace

int main(int argc, char** argv) {
  mp::init(argc, argv);
  if (argc != 2) {
    std::cerr << "usage: main_runs_once FILE\n";
    return 2;
  }
  const std::string path = argv[1];
  std::ofstream(path, std::ios::trunc).close();
  append(path, "main");
  for (auto method : {mp::StartMethod::spawn, mp::StartMethod::forkserver}) {
    for (int i = 0; i < 2; ++i) {
      mp::Process p = mp::get_context(method).Process(child, path);
      p.start();
      p.join();
      if (p.exitcode() != 0) return 3;
    }
  }
  std::ifstream in(path);
  int mains = 0, children = 0;
  for (std::string line; std::getline(in, line);) {
    mains += line == "main";
    children += line == "child";
  }
  std::cout << "main lines: " << mains << ", child lines: " << children << '\n';
  return mains == 1 && children == 4 ? 0 : 1;
}
