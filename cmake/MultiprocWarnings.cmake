# Warning flags shared by every target of the project (not exported to users).
add_library(multiproc_warnings INTERFACE)
target_compile_options(multiproc_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual -Wnull-dereference
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(MULTIPROC_WERROR)
  target_compile_options(multiproc_warnings INTERFACE -Werror)
endif()
# clang checks the lock annotations (src/sys/thread_annotations.hpp); with
# MULTIPROC_WERROR a violation fails the build.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  target_compile_options(multiproc_warnings INTERFACE -Wthread-safety)
endif()
