# Compiles SOURCE, which must fail, and checks what the user would read
# first: the first error line must contain EXPECTED (plain text, not a
# regex), and there may be at most MAX_ERRORS error lines in all.
#
#   cmake -DCOMPILER=g++ -DSTD=c++20 -DINCLUDES="dir1|dir2" -DSOURCE=f.cpp
#         -DEXPECTED="..." -DMAX_ERRORS=2 -P check_first_error.cmake
string(REPLACE "|" ";" include_dirs "${INCLUDES}")
set(include_flags)
foreach(dir IN LISTS include_dirs)
  list(APPEND include_flags "-I${dir}")
endforeach()
execute_process(
  COMMAND ${COMPILER} -std=${STD} -fsyntax-only ${include_flags} ${SOURCE}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled; it must not")
endif()

# One list element per line (a ';' in the text would split a line).
string(REPLACE ";" "," text "${all}")
string(REPLACE "\n" ";" lines "${text}")
set(first "")
set(count 0)
foreach(line IN LISTS lines)
  # g++ and clang: "file:line:col: error: ..." or "...: fatal error: ...";
  # the source lines they echo are indented or carry no ": error: ".
  if(line MATCHES "^[^ ].*: (fatal )?error: ")
    math(EXPR count "${count} + 1")
    if(first STREQUAL "")
      set(first "${line}")
    endif()
  endif()
endforeach()

string(FIND "${first}" "${EXPECTED}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "the first error does not say \"${EXPECTED}\":\n${first}\n\n"
                      "whole output:\n${all}")
endif()
if(count GREATER MAX_ERRORS)
  message(FATAL_ERROR "${count} error lines (at most ${MAX_ERRORS}):\n${all}")
endif()
message(STATUS "first of ${count} error line(s): ${first}")
