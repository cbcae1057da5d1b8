// The program's arguments as init received them, for spawn to execute the
// program again with the same argv (argv[0] included). Set once by init.
#pragma once

namespace multiproc::detail {

void save_program_args(int argc, char** argv);
// A null-terminated copy, or nullptr before init.
char* const* program_argv() noexcept;

}  // namespace multiproc::detail
