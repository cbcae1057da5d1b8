#include "start/task_message.hpp"

#include <cstring>

#include "multiproc/detail/wire.hpp"
#include "multiproc/error.hpp"

namespace multiproc::detail {
namespace {

constexpr std::uint32_t kTaskMagic = 0x4b54504d;    // "MPTK"
constexpr std::uint32_t kReportMagic = 0x5845504d;  // "MPEX"
constexpr std::uint32_t kVersion = 2;
// More than any Process needs; bounds what a corrupt count can ask for.
constexpr std::uint32_t kMaxDescriptors = 1024;

bool terminated(const char (&s)[128]) {
  return std::memchr(s, '\0', sizeof s) != nullptr;
}

}  // namespace

std::string encode_task_message(const IdentitySeed& identity, std::string_view task,
                                std::uint32_t descriptor_count) {
  WireWriter w;
  w.u32(kTaskMagic);
  w.u32(kVersion);
  w.raw(&identity, sizeof identity);
  w.u32(descriptor_count);
  w.str(task);
  return std::move(w.data());
}

TaskMessage parse_task_message(std::span<const std::byte> bytes) {
  WireReader r(bytes, {});
  if (r.u32() != kTaskMagic) throw DecodeError("multiproc: not a task message (bad magic)");
  std::uint32_t version = r.u32();
  if (version != kVersion) {
    throw DecodeError("multiproc: task message version " + std::to_string(version) +
                      ", this program reads version " + std::to_string(kVersion));
  }
  TaskMessage m;
  r.raw(&m.identity, sizeof m.identity);
  const IdentitySeed& id = m.identity;
  if (!terminated(id.name) || !terminated(id.parent_name) || id.depth < 0 ||
      id.depth > IdentitySeed::kMaxDepth || id.start_method < -1 || id.start_method > 2 ||
      id.parent_start_method < -1 || id.parent_start_method > 2) {
    throw DecodeError("multiproc: task message with a corrupt identity");
  }
  m.descriptor_count = r.u32();
  if (m.descriptor_count > kMaxDescriptors) {
    throw DecodeError("multiproc: task message announces " + std::to_string(m.descriptor_count) +
                      " descriptors");
  }
  m.task = r.bytes();
  if (r.remaining() != 0) throw DecodeError("multiproc: task message has trailing bytes");
  return m;
}

std::string encode_exception_report(std::string_view type, std::string_view message) {
  WireWriter w;
  w.u32(kReportMagic);
  w.str(type);
  w.str(message);
  return std::move(w.data());
}

std::optional<ExceptionInfo> parse_exception_report(std::span<const std::byte> bytes, pid_t pid) {
  try {
    WireReader r(bytes, {});
    if (r.u32() != kReportMagic) return std::nullopt;
    ExceptionInfo info;
    info.type = r.str();
    info.message = r.str();
    info.pid = pid;
    if (r.remaining() != 0) return std::nullopt;
    return info;
  } catch (const DecodeError&) {
    return std::nullopt;
  }
}

}  // namespace multiproc::detail
