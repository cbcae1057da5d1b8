// The pool protocol's encoders and decoders (the format is in protocol.hpp).
#include "pool/protocol.hpp"

#include "multiproc/detail/code_ref.hpp"
#include "multiproc/error.hpp"

namespace multiproc::detail::pool {
namespace {

void put_kind(WireWriter& w, Kind kind) {
  w.u32(static_cast<std::uint32_t>(kind));
}

// Every result message starts the same way.
WireWriter result_header(std::uint64_t task, Status status, std::uint64_t duration_ns) {
  WireWriter w;
  put_kind(w, Kind::result);
  w.u64(task);
  w.u32(static_cast<std::uint32_t>(status));
  w.u64(duration_ns);
  return w;
}

void expect_end(const WireReader& in, const char* what) {
  if (in.remaining() != 0) {
    throw DecodeError(std::string("multiproc: pool ") + what + " message with trailing bytes");
  }
}

ResultMessage read_result(WireReader& in) {
  ResultMessage m;
  m.task = in.u64();
  std::uint32_t status = in.u32();
  m.duration_ns = in.u64();
  switch (static_cast<Status>(status)) {
    case Status::ok:
      m.status = Status::ok;
      m.results = in.bytes();
      break;
    case Status::error:
      m.status = Status::error;
      m.type = in.str();
      m.message = in.str();
      m.item = in.u32();
      switch (std::uint32_t typed = in.u32()) {
        case 0:
          break;
        case 1: {
          std::span<const std::byte> fields = in.bytes();
          m.fields.emplace(reinterpret_cast<const char*>(fields.data()), fields.size());
          break;
        }
        default:
          throw DecodeError("multiproc: pool worker sent an error with typed flag " +
                            std::to_string(typed));
      }
      break;
    case Status::skipped:
      m.status = Status::skipped;
      break;
    default:
      throw DecodeError("multiproc: pool worker sent a result of unknown status " +
                        std::to_string(status));
  }
  return m;
}

}  // namespace

// ---- engine to worker ------------------------------------------------------

std::string encode_function(const FunctionMessage& m) {
  WireWriter w;
  put_kind(w, Kind::function);
  w.u32(m.id);
  write_code_ref(w, m.runner);
  w.u32(m.callable ? 1 : 0);
  // The callable's reference is tagged and bound to its runner.
  if (m.callable) write_function_ref(w, m.runner, *m.callable);
  return std::move(w.data());
}

std::string encode_stop() {
  WireWriter w;
  put_kind(w, Kind::stop);
  return std::move(w.data());
}

TasksWriter::TasksWriter(std::uint32_t n) {
  put_kind(out_, Kind::tasks);
  out_.u32(n);
}

void TasksWriter::add(const TaskHeader& t, std::string_view items) {
  out_.u64(t.id);
  out_.u32(t.function);
  out_.u32(t.items);
  out_.str(items);
}

TasksReader::TasksReader(WireReader& in) : in_(in), n_(in.u32()) {}

TaskHeader TasksReader::next(std::span<const std::byte>& items) {
  TaskHeader t;
  t.id = in_.u64();
  t.function = in_.u32();
  t.items = in_.u32();
  items = in_.bytes();
  return t;
}

void TasksReader::finish() const {
  expect_end(in_, "tasks");
}

Kind read_engine_kind(WireReader& in) {
  std::uint32_t k = in.u32();
  switch (static_cast<Kind>(k)) {
    case Kind::function:
    case Kind::tasks:
    case Kind::stop:
      return static_cast<Kind>(k);
    default:
      throw DecodeError("multiproc: pool worker received a message of unknown kind " +
                        std::to_string(k));
  }
}

FunctionMessage read_function(WireReader& in) {
  FunctionMessage m;
  m.id = in.u32();
  m.runner = read_code_ref(in);
  std::uint32_t has_callable = in.u32();
  if (has_callable > 1) throw DecodeError("multiproc: corrupt pool function message");
  // A forged or moved reference is a DecodeError here, before anything runs.
  if (has_callable == 1) m.callable = read_function_ref(in, m.runner);
  expect_end(in, "function");
  return m;
}

// ---- worker to engine ------------------------------------------------------

std::string encode_result_ok(std::uint64_t task, std::uint64_t duration_ns,
                             std::span<const std::byte> results) {
  WireWriter w = result_header(task, Status::ok, duration_ns);
  w.bytes(results);
  return std::move(w.data());
}

std::string encode_result_error(std::uint64_t task, std::uint64_t duration_ns,
                                std::string_view type, std::string_view message, std::uint32_t item,
                                const std::optional<std::string>& fields) {
  WireWriter w = result_header(task, Status::error, duration_ns);
  w.str(type);
  w.str(message);
  w.u32(item);
  w.u32(fields ? 1 : 0);
  if (fields) w.bytes(std::as_bytes(std::span(fields->data(), fields->size())));
  return std::move(w.data());
}

std::string encode_result_skipped(std::uint64_t task) {
  return std::move(result_header(task, Status::skipped, 0).data());
}

std::string encode_retire(std::string_view reason) {
  WireWriter w;
  put_kind(w, Kind::retire);
  w.str(reason);
  return std::move(w.data());
}

std::string encode_init_failed(std::string_view type, std::string_view message) {
  WireWriter w;
  put_kind(w, Kind::init_failed);
  w.str(type);
  w.str(message);
  return std::move(w.data());
}

WorkerMessage decode_worker_message(std::span<const std::byte> bytes) {
  WireReader in(bytes, {});
  WorkerMessage m;
  std::uint32_t k = in.u32();
  m.kind = static_cast<Kind>(k);
  switch (m.kind) {
    case Kind::result:
      m.result = read_result(in);
      break;
    case Kind::retire:
      m.reason = in.str();
      break;
    case Kind::init_failed:
      m.type = in.str();
      m.message = in.str();
      break;
    default:
      throw DecodeError("multiproc: pool worker sent a message of unknown kind " +
                        std::to_string(k));
  }
  expect_end(in, "worker");
  return m;
}

}  // namespace multiproc::detail::pool
