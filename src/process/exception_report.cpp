#include "process/exception_report.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "multiproc/error.hpp"
#include "sys/child_resets.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail {

struct ExceptionReport::Page {
  std::uint32_t recorded;
  std::uint32_t type_len;
  std::uint32_t message_len;
  char type[500];
  char message[4096 - 3 * sizeof(std::uint32_t) - 500];
};

namespace {

constexpr std::size_t kPageSize = 4096;
constexpr std::size_t kSlots = 256;

// Report pages come from one shared mapping made on first use, so that a
// start() does not pay an mmap and a munmap (about 10 us here). A dedicated
// mapping is used when every slot is taken.
struct Slab {
  std::mutex mu;
  char* base = nullptr;
  std::uint64_t used[kSlots / 64] = {};
};
Slab g_slab;

void* take_slot() noexcept {
  std::lock_guard lock(g_slab.mu);
  if (g_slab.base == nullptr) {
    g_slab.base = static_cast<char*>(sys::map_shared(kSlots * kPageSize));
    if (g_slab.base == nullptr) return nullptr;
  }
  for (std::size_t w = 0; w < kSlots / 64; ++w) {
    if (~g_slab.used[w] == 0) continue;
    int bit = __builtin_ctzll(~g_slab.used[w]);
    g_slab.used[w] |= 1ull << bit;
    return g_slab.base + (w * 64 + static_cast<std::size_t>(bit)) * kPageSize;
  }
  return nullptr;
}

// False if `page` is not a slot of this process's slab.
bool give_back_slot(void* page) noexcept {
  std::lock_guard lock(g_slab.mu);
  auto* p = static_cast<char*>(page);
  if (g_slab.base == nullptr || p < g_slab.base || p >= g_slab.base + kSlots * kPageSize) {
    return false;
  }
  auto index = static_cast<std::size_t>(p - g_slab.base) / kPageSize;
  g_slab.used[index / 64] &= ~(1ull << (index % 64));
  return true;
}

std::uint32_t copy_truncated(char* dst, std::size_t cap, std::string_view src) noexcept {
  std::size_t n = src.size() < cap ? src.size() : cap;
  std::memcpy(dst, src.data(), n);
  return static_cast<std::uint32_t>(n);
}

}  // namespace

ExceptionReport::ExceptionReport() {
  static_assert(sizeof(Page) <= kPageSize);
  void* slot = take_slot();
  if (slot == nullptr) {
    slot = sys::map_shared(kPageSize);
    if (slot == nullptr) throw SystemError("mmap (exception report page)", errno);
    dedicated_ = true;
  }
  page_ = static_cast<Page*>(slot);
  page_->recorded = 0;
}

ExceptionReport::~ExceptionReport() {
  if (dedicated_) {
    sys::unmap(page_, kPageSize);
  } else {
    give_back_slot(page_);  // a slot of an ancestor's slab (in a child) stays as it is
  }
}

void forget_report_slab_after_fork() noexcept {
  // The parent's slab stays mapped (it is shared with the parent, which still
  // owns its slots); this process makes its own on first use.
  new (&g_slab) Slab;
}

namespace {
[[maybe_unused]] const bool g_reset_registered = sys::on_fork_child(forget_report_slab_after_fork);
}  // namespace

void ExceptionReport::record(std::string_view type, std::string_view message) noexcept {
  page_->type_len = copy_truncated(page_->type, sizeof page_->type, type);
  page_->message_len = copy_truncated(page_->message, sizeof page_->message, message);
  page_->recorded = 1;
}

std::optional<ExceptionInfo> ExceptionReport::read(pid_t pid) const {
  if (page_->recorded != 1) return std::nullopt;
  // Lengths come from another process: clamp them before use.
  auto len = [](std::uint32_t n, std::size_t cap) { return n < cap ? n : cap; };
  return ExceptionInfo{std::string(page_->type, len(page_->type_len, sizeof page_->type)),
                       std::string(page_->message, len(page_->message_len, sizeof page_->message)),
                       pid};
}

}  // namespace multiproc::detail
