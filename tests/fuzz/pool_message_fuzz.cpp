// libFuzzer target: what a Pool's parent reads from a worker's result
// channel (src/pool/messages.hpp), and the items and results a task's bytes
// hold (the runner's and the sinks' decoding). Malformed input must be a
// DecodeError, never a crash, a huge allocation or a hang.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "multiproc/detail/pool_task.hpp"
#include "multiproc/error.hpp"
#include "pool/messages.hpp"

namespace {

int target(std::string s, std::vector<int> v, double d) {
  return static_cast<int>(s.size() + v.size()) + static_cast<int>(d);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace multiproc::detail;
  auto bytes = std::as_bytes(std::span(data, size));
  try {
    WireReader in(bytes, {});
    if (pool::read_kind(in) == pool::Kind::result) {
      pool::ResultMessage m = pool::read_result(in);
      // A result's bytes, decoded as the parent would for int results.
      WireReader results(m.results, {});
      for (int i = 0; i < 4 && results.remaining() > 0; ++i) (void)get_value<int>(results);
    }
  } catch (const multiproc::DecodeError&) {
  }
  try {
    // The same bytes as a chunk of task items, run through a runner.
    WireReader items(bytes, {});
    WireWriter out;
    std::uint32_t item = 0;
    run_pool_chunk<decltype(&target), std::string, std::vector<int>, double>(
        reinterpret_cast<const void*>(&target), items, 3, out, item);
  } catch (const multiproc::DecodeError&) {
  }
  return 0;
}
