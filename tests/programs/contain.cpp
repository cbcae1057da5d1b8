// contain: runs a command (the test suite) and proves it left nothing
// behind. RELIABILITY 17 and 29 for the suite as a whole, and issue 9's
// "after the suite" check:
//   - this program is a child subreaper, so any process the command or its
//     tests leaked comes back to it as a child; one still running 5 s after
//     the command ended is a leak (one that ended is reaped: it may have
//     outlived its test on purpose, as a shared segment's tracker does);
//   - /dev/shm is listed before and after: a new entry is a leaked segment
//     or named semaphore;
//   - the cgroups below this process's own (cgroup v2) are listed before and
//     after: a new "multiproc-*" directory is a containment session that
//     outlived its process and its guardian (docs/containment.md). It is
//     emptied (cgroup.kill) and removed.
// (Zombies of the tests' own children are caught by each test's check.)
// Exit: the command's exit code if nothing was left; 1 (after killing and
// reaping what was left, and naming it) otherwise.
//
//   contain ctest --test-dir build ...
#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "contain/cgroup_paths.hpp"

namespace {

std::set<std::string> list_dir(const char* path) {
  std::set<std::string> names;
  if (DIR* d = ::opendir(path)) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.insert(name);
    }
    ::closedir(d);
  }
  return names;
}

struct Leftover {
  pid_t pid;
  char state;
  std::string command;
};

// Children of this process, from /proc/<pid>/stat (zombies included).
std::vector<Leftover> children() {
  std::vector<Leftover> out;
  for (const auto& name : list_dir("/proc")) {
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat("/proc/" + name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid != ::getpid()) continue;
    auto open = line.find('(');
    out.push_back({std::stoi(name), state, line.substr(open + 1, close - open - 1)});
  }
  return out;
}

// The containment sessions below `dir`, at any depth.
void find_sessions(const std::string& dir, std::vector<std::string>& out) {
  for (const auto& name : list_dir(dir.c_str())) {
    std::string path = dir + "/" + name;
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) continue;  // a file
    ::closedir(d);
    if (name.rfind("multiproc-", 0) == 0) out.push_back(path);
    find_sessions(path, out);
  }
}

std::set<std::string> sessions() {
  std::vector<std::string> found;
  if (auto own = multiproc::detail::contain::own_cgroup_directory()) find_sessions(*own, found);
  return {found.begin(), found.end()};
}

// Kills what is in the cgroup tree at `path` and removes it, deepest first.
void remove_cgroup_tree(const std::string& path) {
  std::ofstream(path + "/cgroup.kill") << "1";
  for (const auto& name : list_dir(path.c_str())) {
    std::string sub = path + "/" + name;
    if (DIR* d = ::opendir(sub.c_str())) {
      ::closedir(d);
      remove_cgroup_tree(sub);
    }
  }
  for (int i = 0; i < 250 && ::rmdir(path.c_str()) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // until its processes exited
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: contain COMMAND [ARGS...]\n");
    return 2;
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  auto shm_before = list_dir("/dev/shm");
  auto sessions_before = sessions();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execvp(argv[1], argv + 1);
    std::perror("contain: exec");
    _exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

  // A process that outlived its test on purpose and then ended (a named
  // segment's tracker ends when the last user does) comes back here as a
  // zombie: reap those, for up to 5 s, and report only what still runs.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!children().empty() && std::chrono::steady_clock::now() < until) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  bool clean = true;
  for (const auto& c : children()) {
    clean = false;
    std::fprintf(stderr, "contain: left behind: pid %d (%s), state %c\n", c.pid, c.command.c_str(),
                 c.state);
    ::kill(c.pid, SIGKILL);
  }
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  for (const auto& name : list_dir("/dev/shm")) {
    if (shm_before.count(name) == 0) {
      clean = false;
      std::fprintf(stderr, "contain: left behind: /dev/shm/%s\n", name.c_str());
    }
  }
  for (const auto& path : sessions()) {
    if (sessions_before.count(path) != 0) continue;
    clean = false;
    std::fprintf(stderr, "contain: left behind: cgroup %s\n", path.c_str());
    remove_cgroup_tree(path);
  }
  if (clean) {
    std::fprintf(stderr, "contain: nothing left behind (processes, zombies, /dev/shm, cgroups)\n");
  }
  return clean ? code : 1;
}
