// multiproc/multiproc.hpp — the whole public API.
//
//   #include <multiproc/multiproc.hpp>
//   namespace mp = multiproc;
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include "multiproc/array.hpp"
#include "multiproc/async_result.hpp"
#include "multiproc/barrier.hpp"
#include "multiproc/bytes.hpp"
#include "multiproc/condition.hpp"
#include "multiproc/connection.hpp"
#include "multiproc/containment.hpp"
#include "multiproc/context.hpp"
#include "multiproc/current_process.hpp"
#include "multiproc/error.hpp"
#include "multiproc/event.hpp"
#include "multiproc/exception_info.hpp"
#include "multiproc/exit_status.hpp"
#include "multiproc/init.hpp"
#include "multiproc/listener.hpp"
#include "multiproc/lock.hpp"
#include "multiproc/pool.hpp"
#include "multiproc/process.hpp"
#include "multiproc/queue.hpp"
#include "multiproc/range.hpp"
#include "multiproc/register_exception.hpp"
#include "multiproc/semaphore.hpp"
#include "multiproc/serialization.hpp"
#include "multiproc/shared_memory.hpp"
#include "multiproc/signals.hpp"
#include "multiproc/start_method.hpp"
#include "multiproc/supervisor.hpp"
#include "multiproc/value.hpp"
#include "multiproc/wait.hpp"
