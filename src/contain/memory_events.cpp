#include "contain/memory_events.hpp"

#include <charconv>

#include "contain/text_lines.hpp"

namespace multiproc::detail::contain {

MemoryEvents parse_memory_events(std::string_view text) noexcept {
  MemoryEvents out;
  while (!text.empty()) {
    std::string_view line = next_line(text);
    std::size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    std::string_view key = line.substr(0, space);
    std::string_view number = line.substr(space + 1);
    std::uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || ptr != number.data() + number.size()) continue;
    if (key == "max") out.max = value;
    if (key == "oom") out.oom = value;
    if (key == "oom_kill") out.oom_kill = value;
  }
  return out;
}

}  // namespace multiproc::detail::contain
