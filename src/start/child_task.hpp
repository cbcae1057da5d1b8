// A spawn or forkserver child's work once its descriptors are in place:
// rebuild the target from the task (process_target.hpp), close the received
// descriptors (the arguments hold their own copies), and run it, reporting an
// uncaught exception on the channel (task_message.hpp).
#pragma once

#include <span>

#include "start/task_message.hpp"

namespace multiproc::detail {

// Returns the exit code.
int run_task(const TaskMessage& message, std::span<const int> descriptors, int channel) noexcept;

// Reports the exception being handled on `channel` as the child's uncaught
// exception (a task that could not even be read, say). Returns 1.
int report_failure_on_channel(const char* process_name, int channel) noexcept;

}  // namespace multiproc::detail
