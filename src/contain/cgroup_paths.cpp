#include "contain/cgroup_paths.hpp"

#include <fstream>
#include <sstream>

#include "contain/text_lines.hpp"

namespace multiproc::detail::contain {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      auto digit = [](char c) { return c >= '0' && c <= '7'; };
      if (digit(s[i + 1]) && digit(s[i + 2]) && digit(s[i + 3])) {
        out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::string read_file(const char* path) {
  std::ifstream f(path);
  std::ostringstream text;
  text << f.rdbuf();
  return text.str();
}

// The space-separated field `n` (0-based) of `line`.
std::string_view field(std::string_view line, int n) {
  for (int i = 0; i < n; ++i) {
    std::size_t space = line.find(' ');
    if (space == std::string_view::npos) return {};
    line.remove_prefix(space + 1);
  }
  return line.substr(0, line.find(' '));
}

}  // namespace

std::optional<std::string> cgroup2_mount(std::string_view mountinfo) {
  while (!mountinfo.empty()) {
    std::string_view line = next_line(mountinfo);
    // Optional fields end with " - "; the filesystem type follows.
    std::size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    if (field(line.substr(dash + 3), 0) != "cgroup2") continue;
    std::string_view point = field(line, 4);
    if (!point.empty()) return unescape(point);
  }
  return std::nullopt;
}

std::optional<std::string> cgroup2_path(std::string_view proc_cgroup) {
  while (!proc_cgroup.empty()) {
    std::string_view line = next_line(proc_cgroup);
    if (!line.starts_with("0::")) continue;
    std::string_view path = line.substr(3);
    if (path.empty() || path.front() != '/') return std::nullopt;
    if (path.ends_with(" (deleted)") || path.starts_with("/..")) return std::nullopt;
    return std::string(path);
  }
  return std::nullopt;
}

std::optional<std::string> own_cgroup_directory() {
  auto mount = cgroup2_mount(read_file("/proc/self/mountinfo"));
  auto path = cgroup2_path(read_file("/proc/self/cgroup"));
  if (!mount || !path) return std::nullopt;
  if (*path == "/") return *mount;
  if (mount->ends_with('/')) mount->pop_back();
  return *mount + *path;
}

}  // namespace multiproc::detail::contain
