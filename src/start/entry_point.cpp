#include "multiproc/detail/entry_point.hpp"

#include <array>
#include <atomic>
#include <string>

#include "multiproc/error.hpp"

namespace multiproc::detail {
namespace {

// Append-only; a slot is published by its store, and readers scan up to the
// count, skipping slots not yet written.
constexpr std::size_t kEntries = 16384;
std::array<std::atomic<const void*>, kEntries> g_entries{};
std::atomic<std::size_t> g_count{0};

}  // namespace

bool register_entry(const void* address) noexcept {
  if (is_registered_entry(address)) return true;  // a library loaded twice, say
  std::size_t i = g_count.fetch_add(1);
  if (i >= kEntries) return false;
  g_entries[i].store(address, std::memory_order_release);
  return true;
}

bool is_registered_entry(const void* address) noexcept {
  std::size_t n = std::min(g_count.load(std::memory_order_acquire), kEntries);
  for (std::size_t i = 0; i < n; ++i) {
    if (g_entries[i].load(std::memory_order_acquire) == address) return true;
  }
  return false;
}

void throw_entry_table_full() {
  throw UsageError("multiproc: more than " + std::to_string(kEntries) +
                   " distinct task signatures; the table of entry points is full");
}

const void* resolve_entry_address(const CodeRef& ref) {
  const void* address = resolve_code(ref);
  if (!is_registered_entry(address)) {
    throw DecodeError("multiproc: offset " + std::to_string(ref.offset) + " of '" +
                      (ref.object.empty() ? std::string("the main program") : ref.object) +
                      "' is not one of the program's task entry points");
  }
  return address;
}

}  // namespace multiproc::detail
