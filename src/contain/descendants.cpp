#include "contain/descendants.hpp"

#include <fstream>

namespace multiproc::detail::contain {
namespace {

std::vector<pid_t> children_of(pid_t pid) {
  std::string id = std::to_string(pid);
  return pids_in("/proc/" + id + "/task/" + id + "/children");
}

}  // namespace

std::vector<pid_t> pids_in(const std::string& file) {
  std::vector<pid_t> out;
  std::ifstream f(file);
  long pid = 0;
  while (f >> pid) out.push_back(static_cast<pid_t>(pid));
  return out;
}

int kill_descendants(pid_t root, bool (*kill_one)(pid_t)) {
  int killed = 0;
  for (int round = 0; round < 100; ++round) {
    std::vector<pid_t> found = children_of(root);
    if (found.empty()) break;
    for (std::size_t i = 0; i < found.size(); ++i) {
      for (pid_t grandchild : children_of(found[i])) found.push_back(grandchild);
    }
    for (pid_t p : found) killed += kill_one(p) ? 1 : 0;
  }
  return killed;
}

}  // namespace multiproc::detail::contain
