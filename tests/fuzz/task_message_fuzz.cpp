// libFuzzer target: the bytes a spawn or forkserver child receives as its
// task (start/task_message.hpp), and the exception report a parent reads
// back. Malformed input must be a DecodeError (or nullopt), never a crash, a
// huge allocation or a hang. A message that parses is decoded further as the
// task of a target with a function pointer and a few argument types: the
// code reference must be refused unless it names code, and nothing is run.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "multiproc/detail/process_target.hpp"
#include "multiproc/error.hpp"
#include "start/task_message.hpp"

namespace {

int target(std::string, std::vector<int>, double) {
  return 0;
}

using Decoder = multiproc::detail::TargetDecoder;
constexpr Decoder kDecoder =
    &multiproc::detail::decode_target<decltype(&target), std::string, std::vector<int>, double>;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto bytes = std::as_bytes(std::span(data, size));
  (void)multiproc::detail::parse_exception_report(bytes, 1);
  try {
    multiproc::detail::TaskMessage m = multiproc::detail::parse_task_message(bytes);
    multiproc::detail::WireReader in(m.task, {});
    // The decoder reference is skipped: resolving it would call whatever it names.
    (void)in.str();
    (void)in.u64();
    std::unique_ptr<multiproc::detail::ProcessTarget> t(kDecoder(in));
  } catch (const multiproc::DecodeError&) {
  } catch (const multiproc::UsageError&) {
  }
  return 0;
}
