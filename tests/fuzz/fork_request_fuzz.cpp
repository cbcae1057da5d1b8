// libFuzzer target: what the forkserver's zygote reads from its control
// socket (start/forkserver_protocol.hpp): a request header, then a task
// message. The zygote must refuse anything malformed before forking.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "multiproc/error.hpp"
#include "start/forkserver_protocol.hpp"
#include "start/task_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace multiproc::detail;
  if (size < sizeof(ForkRequest) + 1) return 0;
  ForkRequest request;
  std::memcpy(&request, data, sizeof request);
  std::size_t received = data[sizeof request];  // descriptors that came with it
  if (check_fork_request(request, received) != 0) return 0;
  auto rest = std::as_bytes(std::span(data + sizeof request + 1, size - sizeof request - 1));
  if (request.message_size != rest.size()) return 0;
  try {
    TaskMessage m = parse_task_message(rest);
    if (m.descriptor_count + 1 != received) return 0;
  } catch (const multiproc::DecodeError&) {
  }
  return 0;
}
