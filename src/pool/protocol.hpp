// The pool protocol: every message between the engine and a pool worker, in
// both directions, encoded and decoded side by side. Each message is one
// item of a worker channel (one writer, one reader each way) and starts with
// its u32 kind. A code ref and a function ref (a code ref with its tag,
// bound to the runner) are written and read by detail/code_ref.hpp.
//
// Engine to worker (the worker's task channel):
//   FUNCTION     1  u32 id, code ref runner, u32 has callable (0|1),
//                   [function ref callable]
//   TASKS        2  u32 n, then n x { u64 task id, u32 function id,
//                   u32 items, bytes items }
//   STOP         3
// Worker to engine (its result channel):
//   RESULT     101  u64 task id, u32 status, u64 duration ns, then
//                   ok (0): bytes results; error (1): str type, str message,
//                   u32 item (index of the failing item in its task),
//                   u32 typed (0|1: a registered exception type),
//                   [bytes fields (its serialized fields)];
//                   skipped (2): nothing
//   RETIRE     102  str reason (maxtasksperchild or memory: the worker exits
//                   after this message)
//   INIT_FAILED 103 str type, str message (the initializer threw)
//
// Nothing may follow a message's last field. Both decoders take bytes from
// another process: a malformed message is a DecodeError, never a crash or a
// huge allocation (tests/fuzz/pool_message_fuzz.cpp). The engine kills and
// replaces a worker whose message does not decode.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "multiproc/detail/code_ref.hpp"
#include "multiproc/detail/wire.hpp"

namespace multiproc::detail::pool {

enum class Kind : std::uint32_t {
  function = 1,
  tasks = 2,
  stop = 3,
  result = 101,
  retire = 102,
  init_failed = 103,
};

enum class Status : std::uint32_t { ok = 0, error = 1, skipped = 2 };

inline constexpr std::uint32_t kChannelTag = 0x4c4f4f50;  // "POOL": the queues' type tag

// ---- engine to worker ------------------------------------------------------

struct FunctionMessage {
  std::uint32_t id = 0;
  CodeRef runner;
  std::optional<CodeRef> callable;  // none: a stateless class (capture-less lambda)
};

struct TaskHeader {
  std::uint64_t id = 0;
  std::uint32_t function = 0;
  std::uint32_t items = 0;
};

std::string encode_function(const FunctionMessage& m);
std::string encode_stop();

// Writes one TASKS message: begin(n), then exactly n add() calls.
class TasksWriter {
 public:
  explicit TasksWriter(std::uint32_t n);
  void add(const TaskHeader& t, std::string_view items);
  std::string& data() noexcept { return out_.data(); }

 private:
  WireWriter out_;
};

// Reads a TASKS message's tasks one at a time (no copy of the items).
class TasksReader {
 public:
  explicit TasksReader(WireReader& in);
  std::uint32_t size() const noexcept { return n_; }
  // The next task; its items point into the message. Call size() times.
  TaskHeader next(std::span<const std::byte>& items);
  // Throws DecodeError when bytes follow the last task.
  void finish() const;

 private:
  WireReader& in_;
  std::uint32_t n_ = 0;
};

// What a worker reads: its kind, and the body for FUNCTION. For TASKS, read
// the rest of `in` with a TasksReader.
Kind read_engine_kind(WireReader& in);
FunctionMessage read_function(WireReader& in);

// ---- worker to engine ------------------------------------------------------

struct ResultMessage {
  std::uint64_t task = 0;
  Status status = Status::ok;
  std::uint64_t duration_ns = 0;
  std::span<const std::byte> results;  // ok: points into the message
  std::string type, message;           // error
  std::uint32_t item = 0;              // error
  // error: the fields of a type registered with register_exception<T>()
  // (empty for one without fields); none for any other type.
  std::optional<std::string> fields;
};

std::string encode_result_ok(std::uint64_t task, std::uint64_t duration_ns,
                             std::span<const std::byte> results);
std::string encode_result_error(std::uint64_t task, std::uint64_t duration_ns,
                                std::string_view type, std::string_view message, std::uint32_t item,
                                const std::optional<std::string>& fields);
std::string encode_result_skipped(std::uint64_t task);
std::string encode_retire(std::string_view reason);
std::string encode_init_failed(std::string_view type, std::string_view message);

// One decoded worker message: `kind` says which fields are set.
struct WorkerMessage {
  Kind kind = Kind::result;
  ResultMessage result;       // RESULT
  std::string reason;         // RETIRE
  std::string type, message;  // INIT_FAILED
};

// The engine's decoder. Throws DecodeError for anything but one whole,
// well-formed worker message.
WorkerMessage decode_worker_message(std::span<const std::byte> bytes);

}  // namespace multiproc::detail::pool
