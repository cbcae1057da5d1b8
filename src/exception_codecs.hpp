// The program's table of exception types registered with
// register_exception<T>() (register_exception.hpp), and its two uses: a pool
// worker writes the fields of a registered exception it caught, the engine
// rebuilds it. The table is filled by static initialisers and read
// lock-free, so a forked child of a threaded process can read it.
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <span>
#include <string>

#include "multiproc/exception_info.hpp"

namespace multiproc::detail {

// Inside a catch block: the fields of the exception being handled if its
// exact type is registered (empty for a type without fields); none if it is
// not registered or its fields cannot be written.
std::optional<std::string> registered_fields_of_current_exception() noexcept;

// What a task's failure throws in the parent: the registered type rebuilt
// from `fields` when there are any and the type is registered here and
// decodes; a RemoteError otherwise.
std::exception_ptr remote_exception(ExceptionInfo info, const std::optional<std::string>& fields,
                                    std::optional<std::size_t> item);

}  // namespace multiproc::detail
