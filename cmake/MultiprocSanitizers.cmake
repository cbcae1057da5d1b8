# MULTIPROC_SANITIZE=address,undefined (or thread) instruments every target
# of the build, the library included, so that child-side code is checked too.
if(MULTIPROC_SANITIZE)
  set(_mp_san_flags -fsanitize=${MULTIPROC_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_compile_options(${_mp_san_flags})
  add_link_options(${_mp_san_flags})
  add_compile_definitions(MULTIPROC_SANITIZED=1)
endif()

# MULTIPROC_COVERAGE instruments for gcov; children flush their counters
# before _exit (see src/start/child_exit.cpp), so child-only lines count.
if(MULTIPROC_COVERAGE)
  add_compile_options(--coverage -O0)
  add_link_options(--coverage)
  add_compile_definitions(MULTIPROC_COVERAGE=1)
endif()

# MULTIPROC_FUZZ instruments everything for libFuzzer's coverage feedback;
# the fuzz targets themselves link with -fsanitize=fuzzer.
if(MULTIPROC_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
