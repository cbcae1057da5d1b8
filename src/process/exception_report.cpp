#include "process/exception_report.hpp"

#include <cerrno>
#include <cstring>

#include "multiproc/error.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail {

struct ExceptionReport::Page {
  std::uint32_t recorded;
  std::uint32_t type_len;
  std::uint32_t message_len;
  char type[500];
  char message[4096 - 3 * sizeof(std::uint32_t) - 500];
  static void check_size() { static_assert(sizeof(Page) <= 4096); }
};


ExceptionReport::ExceptionReport() {
  page_ = static_cast<Page*>(sys::map_shared(sizeof(Page)));
  if (page_ == nullptr) throw SystemError("mmap (exception report page)", errno);
}

ExceptionReport::~ExceptionReport() { sys::unmap(page_, sizeof(Page)); }

namespace {
std::uint32_t copy_truncated(char* dst, std::size_t cap, std::string_view src) noexcept {
  std::size_t n = src.size() < cap ? src.size() : cap;
  std::memcpy(dst, src.data(), n);
  return static_cast<std::uint32_t>(n);
}
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
