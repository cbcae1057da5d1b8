#include "start/child_task.hpp"

#include <memory>
#include <type_traits>

#include "multiproc/detail/code_ref.hpp"
#include "multiproc/detail/entry_point.hpp"
#include "multiproc/detail/process_target.hpp"
#include "multiproc/detail/wire.hpp"
#include "start/run_target.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail {
namespace {

void record_on_channel(void* channel, std::string_view type, std::string_view message) {
  std::string report = encode_exception_report(type, message);
  sys::write_all(*static_cast<int*>(channel), report.data(), report.size());
}

void close_all(std::span<const int> fds) noexcept {
  for (int fd : fds) sys::close_fd(fd);
}

}  // namespace

int report_failure_on_channel(const char* process_name, int channel) noexcept {
  return report_current_exception(process_name, {record_on_channel, &channel});
}

int run_task(const TaskMessage& message, std::span<const int> descriptors, int channel) noexcept {
  const char* name = message.identity.name;
  std::unique_ptr<ProcessTarget> target;
  try {
    WireReader in(message.task, descriptors);
    CodeRef decoder = read_code_ref(in);
    target.reset(resolve_entry<std::remove_pointer_t<TargetDecoder>>(decoder)(in));
    if (in.remaining() != 0) throw DecodeError("multiproc: task has trailing bytes");
  } catch (...) {
    close_all(descriptors);
    return report_failure_on_channel(name, channel);
  }
  close_all(descriptors);
  return run_target(*target, name, {record_on_channel, &channel});
}

}  // namespace multiproc::detail
