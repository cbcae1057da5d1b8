// Reading the kernel's line-oriented text files (mountinfo, /proc/<pid>/cgroup,
// memory.events) one line at a time, without copying.
#pragma once

#include <string_view>

namespace multiproc::detail::contain {

// Takes the first line off `text` (without its '\n') and returns it.
inline std::string_view next_line(std::string_view& text) noexcept {
  std::size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

}  // namespace multiproc::detail::contain
