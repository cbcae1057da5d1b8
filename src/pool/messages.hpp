// The messages of a pool worker's two channels (one Queue core each way,
// one writer and one reader each). Every message is one queue item.
//
// Parent to worker:
//   FUNCTION  u32 id, runner code ref, u32 has callable, [callable code ref]
//   TASKS     u32 n, then n x { u64 task id, u32 function id, u32 items, bytes }
//   STOP
// Worker to parent:
//   RESULT    u64 task id, u32 status, u64 duration ns, then for ok: bytes
//             results; for error: str type, str message, u32 item index
//   RETIRE    str reason (maxtasksperchild or memory: the worker exits)
//   INIT_FAILED  str type, str message (the initializer threw)
//
// The parent reads worker messages as untrusted: a malformed one is a
// DecodeError, and the worker is killed and replaced.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "multiproc/detail/code_ref.hpp"
#include "multiproc/detail/wire.hpp"

namespace multiproc::detail::pool {

enum class Kind : std::uint32_t {
  function = 1,
  tasks,
  stop,
  result = 101,
  retire,
  init_failed,
};

enum class Status : std::uint32_t { ok = 0, error, skipped };

inline constexpr std::uint32_t kChannelTag = 0x4c4f4f50;  // "POOL": the queues' type tag

struct TaskHeader {
  std::uint64_t id = 0;
  std::uint32_t function = 0;
  std::uint32_t items = 0;
};

struct ResultMessage {
  std::uint64_t task = 0;
  Status status = Status::ok;
  std::uint64_t duration_ns = 0;
  std::span<const std::byte> results;  // ok
  std::string type, message;           // error
  std::uint32_t item = 0;              // error
};

// Worker side.
std::string encode_result_ok(std::uint64_t task, std::uint64_t duration_ns,
                             std::span<const std::byte> results);
std::string encode_result_error(std::uint64_t task, std::uint64_t duration_ns,
                                std::string_view type, std::string_view message,
                                std::uint32_t item);
std::string encode_result_skipped(std::uint64_t task);
std::string encode_text(Kind kind, std::string_view a, std::string_view b = {});

// Parent side: reads one worker message. Throws DecodeError.
Kind read_kind(WireReader& in);
ResultMessage read_result(WireReader& in);

}  // namespace multiproc::detail::pool
