// libFuzzer target: the pool protocol (src/pool/protocol.hpp) in both
// directions (what the engine reads from a worker, what a worker reads from
// the engine), and the items and results a task's bytes hold (the runner's
// and the sinks' decoding). Malformed input must be a
// DecodeError, never a crash, a huge allocation or a hang.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "multiproc/detail/pool_task.hpp"
#include "multiproc/error.hpp"
#include "pool/protocol.hpp"

namespace {

int target(std::string s, std::vector<int> v, double d) {
  return static_cast<int>(s.size() + v.size()) + static_cast<int>(d);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace multiproc::detail;
  auto bytes = std::as_bytes(std::span(data, size));
  try {
    pool::WorkerMessage m = pool::decode_worker_message(bytes);
    if (m.kind == pool::Kind::result) {
      // A result's bytes, decoded as the parent would for int results.
      WireReader results(m.result.results, {});
      for (int i = 0; i < 4 && results.remaining() > 0; ++i) (void)get_value<int>(results);
    }
  } catch (const multiproc::DecodeError&) {
  }
  try {
    // The same bytes as a message to a worker.
    WireReader in(bytes, {});
    pool::Kind kind = pool::read_engine_kind(in);
    if (kind == pool::Kind::function) {
      (void)pool::read_function(in);
    } else if (kind == pool::Kind::tasks) {
      pool::TasksReader tasks(in);
      for (std::uint32_t i = 0; i < tasks.size(); ++i) {
        std::span<const std::byte> items;
        (void)tasks.next(items);
      }
      tasks.finish();
    }
  } catch (const multiproc::DecodeError&) {
  }
  try {
    // The same bytes as a chunk of task items, run through a runner.
    WireReader items(bytes, {});
    WireWriter out;
    std::atomic<std::uint32_t> item{0};
    run_pool_chunk<decltype(&target), std::string, std::vector<int>, double>(
        reinterpret_cast<const void*>(&target), items, 3, out, item);
  } catch (const multiproc::DecodeError&) {
  }
  return 0;
}
