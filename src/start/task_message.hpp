// What a spawn or forkserver child receives to start: who it is, whom to
// watch, and its task (see detail/process_target.hpp for the task's bytes).
//
//   u32 magic "MPTK"   u32 version
//   IdentitySeed       its name, parent and Python identity path
//   u32 descriptors    how many descriptors travel with the task
//   bytes task         decoder reference, callable, arguments
//
// The report a child sends back on its channel when its target throws:
//   u32 magic "MPEX"   str type   str message
//
// Both parsers take bytes from another process and are fuzzed
// (tests/fuzz/task_message_fuzz.cpp): a malformed message is a DecodeError.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "multiproc/exception_info.hpp"
#include "start/identity.hpp"

namespace multiproc::detail {

struct TaskMessage {
  IdentitySeed identity{};
  std::uint32_t descriptor_count = 0;
  std::span<const std::byte> task;  // points into the parsed buffer
};

std::string encode_task_message(const IdentitySeed& identity, std::string_view task,
                                std::uint32_t descriptor_count);
TaskMessage parse_task_message(std::span<const std::byte> bytes);

std::string encode_exception_report(std::string_view type, std::string_view message);
// nullopt for anything but one well-formed report.
std::optional<ExceptionInfo> parse_exception_report(std::span<const std::byte> bytes, pid_t pid);

}  // namespace multiproc::detail
