#include "helpers/leak_check.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "contain/session.hpp"
#include "start/forkserver.hpp"

namespace multiproc::testing {
namespace {

bool read_stat(pid_t pid, char& state, pid_t& ppid, std::string& command) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return false;
  auto open = line.find('(');
  auto close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos) return false;
  command = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 2));
  return static_cast<bool>(rest >> state >> ppid);
}

}  // namespace

std::vector<ChildEntry> children_of(pid_t parent) {
  std::vector<ChildEntry> out;
  // The forkserver's zygote serves the whole test binary (test_main's init),
  // and the containment guardian (adopted by this subreaper) outlives it.
  bool self = parent == ::getpid();
  pid_t zygote = self ? multiproc::detail::forkserver_pid().value_or(0) : 0;
  pid_t guardian = self ? multiproc::detail::contain::session_guardian() : 0;
  DIR* d = opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    char state;
    pid_t ppid;
    std::string command;
    if (pid == zygote || pid == guardian) continue;
    if (read_stat(static_cast<pid_t>(pid), state, ppid, command) && ppid == parent) {
      out.push_back({static_cast<pid_t>(pid), state, command});
    }
  }
  closedir(d);
  return out;
}

std::set<int> open_fds() {
  std::set<int> fds;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return fds;
  int own = dirfd(d);
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    int fd = std::atoi(e->d_name);
    if (fd != own) fds.insert(fd);
  }
  closedir(d);
  return fds;
}

char process_state(pid_t pid) {
  char state;
  pid_t ppid;
  std::string command;
  return read_stat(pid, state, ppid, command) ? state : '\0';
}

}  // namespace multiproc::testing
