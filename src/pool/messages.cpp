#include "pool/messages.hpp"

#include <time.h>

#include "multiproc/error.hpp"
#include "pool/control_block.hpp"

namespace multiproc::detail::pool {

std::int64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

namespace {

// Every result message starts the same way.
WireWriter result_header(std::uint64_t task, Status status, std::uint64_t duration_ns) {
  WireWriter w;
  w.u32(static_cast<std::uint32_t>(Kind::result));
  w.u64(task);
  w.u32(static_cast<std::uint32_t>(status));
  w.u64(duration_ns);
  return w;
}

}  // namespace

std::string encode_result_ok(std::uint64_t task, std::uint64_t duration_ns,
                             std::span<const std::byte> results) {
  WireWriter w = result_header(task, Status::ok, duration_ns);
  w.bytes(results);
  return std::move(w.data());
}

std::string encode_result_error(std::uint64_t task, std::uint64_t duration_ns,
                                std::string_view type, std::string_view message,
                                std::uint32_t item) {
  WireWriter w = result_header(task, Status::error, duration_ns);
  w.str(type);
  w.str(message);
  w.u32(item);
  return std::move(w.data());
}

std::string encode_result_skipped(std::uint64_t task) {
  return std::move(result_header(task, Status::skipped, 0).data());
}

std::string encode_text(Kind kind, std::string_view a, std::string_view b) {
  WireWriter w;
  w.u32(static_cast<std::uint32_t>(kind));
  w.str(a);
  w.str(b);
  return std::move(w.data());
}

Kind read_kind(WireReader& in) {
  std::uint32_t k = in.u32();
  switch (static_cast<Kind>(k)) {
    case Kind::result:
    case Kind::retire:
    case Kind::init_failed:
      return static_cast<Kind>(k);
    default:
      throw DecodeError("multiproc: pool worker sent a message of unknown kind " +
                        std::to_string(k));
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
      break;
    case Status::skipped:
      m.status = Status::skipped;
      break;
    default:
      throw DecodeError("multiproc: pool worker sent a result of unknown status " +
                        std::to_string(status));
  }
  if (in.remaining() != 0) throw DecodeError("multiproc: pool result with trailing bytes");
  return m;
}

}  // namespace multiproc::detail::pool
