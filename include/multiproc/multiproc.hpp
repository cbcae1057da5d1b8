// multiproc/multiproc.hpp — the whole public API.
//
//   #include <multiproc/multiproc.hpp>
//   namespace mp = multiproc;
#pragma once

#include "multiproc/bytes.hpp"
#include "multiproc/connection.hpp"
#include "multiproc/current_process.hpp"
#include "multiproc/error.hpp"
#include "multiproc/exception_info.hpp"
#include "multiproc/exit_status.hpp"
#include "multiproc/process.hpp"
#include "multiproc/queue.hpp"
#include "multiproc/serialization.hpp"
#include "multiproc/wait.hpp"
