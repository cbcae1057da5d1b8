# The two commands a new user types (README.md):
#   make demo   install what is missing, build, run the demo
#   make test   install what is missing, build, run the whole test suite
# Others: package, test-asan, test-tsan, soak, coverage, bench, format, format-check, clean.

JOBS      ?= $(shell nproc)
BUILD     ?= build
CMAKE_ARGS ?=

BUILD_PACKAGES    := g++ cmake make pkg-config libcereal-dev libssl-dev
TEST_PACKAGES     := $(BUILD_PACKAGES) libgtest-dev libgmock-dev libbenchmark-dev
COVERAGE_PACKAGES := $(TEST_PACKAGES) lcov
CLANG_PACKAGES    := $(TEST_PACKAGES) clang libclang-rt-14-dev
BENCH_PACKAGES    := $(TEST_PACKAGES) python3 python3-matplotlib python3-joblib python3-billiard \
                     python3-pebble
LINT_PACKAGES     := clang-format

# The project's own builds treat warnings as errors (g++ for `make test`,
# clang for `make test-asan`); a project that adds multiproc does not.
WERROR := -DMULTIPROC_WERROR=ON

ENSURE := ./scripts/ensure-packages.sh

.PHONY: all build-main demo package test test-asan test-tsan soak fuzz coverage bench format format-check clean deps-build deps-test

all: build-main

deps-build:
	@$(ENSURE) $(BUILD_PACKAGES)

deps-test:
	@$(ENSURE) $(TEST_PACKAGES)

# Configure once; later runs only rebuild what changed.
$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(WERROR) $(CMAKE_ARGS)

build-main: deps-test $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: build-main
	./$(BUILD)/examples/demo

# A Debian package (libmultiproc-dev_<version>_<arch>.deb in $(BUILD)/) of the
# library, headers, CMake package and pkg-config file (cmake/MultiprocPackage.cmake).
package: build-main
	cd $(BUILD) && cpack -G DEB

# `contain` fails the run if the suite left a process, a zombie or a
# /dev/shm entry behind (tests/programs/contain.cpp).
test: build-main
	./$(BUILD)/tests/contain ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure --timeout 300

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer, built
# with clang (so CI also proves the clang build warning-free).
test-asan:
	@$(ENSURE) $(CLANG_PACKAGES)
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  $(WERROR) -DMULTIPROC_SANITIZE=address,undefined
	cmake --build build-asan -j $(JOBS)
	@# handle_segv=0: tests crash children with SIGSEGV on purpose and check that
	@# the parent sees the signal; in a spawned (exec'd) child ASan's own SEGV
	@# handler would turn it into an exit code.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:handle_segv=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ./build-asan/tests/contain ctest --test-dir build-asan -j $(JOBS) --output-on-failure --timeout 300

# The suite under ThreadSanitizer (clang). It applies to the threads inside
# each process (the pool's manager and collectors, the signal bridge, locks
# and queues used from several threads); forked children of a threaded
# process are not its business, and the library's thread check discounts
# TSan's own background thread (src/sys/tsan.hpp).
test-tsan:
	@$(ENSURE) $(CLANG_PACKAGES)
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  $(WERROR) -DMULTIPROC_SANITIZE=thread -DMULTIPROC_BUILD_BENCH=OFF
	cmake --build build-tsan -j $(JOBS)
	@# Not the signal_driver tests: they time whole process groups, and TSan's
	@# runtime makes a forked child of a threaded process slow to start and to
	@# die; the g++ and ASan runs prove them.
	TSAN_OPTIONS=halt_on_error=1:handle_segv=0 \
	  ./build-tsan/tests/contain ctest --test-dir build-tsan -j $(JOBS) --output-on-failure --timeout 300 \
	  -E '^(signals_|example_pool_sigint_ctrl_c)' 

# The soak test (docs/testing.md): SOAK_SECONDS of random work against a
# Pool, Queues and signal storms with crashes, hangs and kills; then checks
# that nothing was lost, duplicated or leaked. Not in `make test` (ctest
# runs it for 5 s as soak_smoke). SOAK_ARGS: e.g. --seed S to replay a run,
# --start-method fork|spawn|forkserver|mixed.
SOAK_SECONDS ?= 600
SOAK_ARGS ?=
soak: deps-test $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target soak
	./$(BUILD)/tests/soak --seconds $(SOAK_SECONDS) $(SOAK_ARGS)

# Every libFuzzer target, FUZZ_SECONDS each (CI: briefly), from the seed
# corpus in tests/fuzz/corpus/<target> (copied: the repository is not changed).
FUZZ_SECONDS ?= 20
FUZZERS := frame_fuzz task_message_fuzz fork_request_fuzz pool_message_fuzz queue_record_fuzz handshake_fuzz
fuzz:
	@$(ENSURE) $(CLANG_PACKAGES)
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  $(WERROR) -DMULTIPROC_SANITIZE=address,undefined -DMULTIPROC_FUZZ=ON \
	  -DMULTIPROC_BUILD_TESTS=OFF -DMULTIPROC_BUILD_EXAMPLES=OFF -DMULTIPROC_BUILD_BENCH=OFF
	cmake --build build-fuzz -j $(JOBS)
	@for f in $(FUZZERS); do \
	  rm -rf build-fuzz/corpus-$$f && cp -r tests/fuzz/corpus/$${f%_fuzz} build-fuzz/corpus-$$f && \
	  echo "fuzzing $$f for $(FUZZ_SECONDS) s" && \
	  if ./build-fuzz/tests/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1 \
	    build-fuzz/corpus-$$f > build-fuzz/$$f.log 2>&1; then tail -n 6 build-fuzz/$$f.log; \
	  else cat build-fuzz/$$f.log; exit 1; fi; \
	done

# Line coverage (gcov + lcov), child-side lines included; report in build-coverage/html.
coverage:
	@$(ENSURE) $(COVERAGE_PACKAGES)
	cmake -S . -B build-coverage -DCMAKE_BUILD_TYPE=Debug -DMULTIPROC_COVERAGE=ON -DMULTIPROC_BUILD_BENCH=OFF
	cmake --build build-coverage -j $(JOBS)
	lcov --quiet --zerocounters --directory build-coverage
	ctest --test-dir build-coverage -j $(JOBS) --output-on-failure --timeout 300
	lcov --quiet --capture --directory build-coverage --output-file build-coverage/all.info
	lcov --quiet --extract build-coverage/all.info '$(CURDIR)/src/*' '$(CURDIR)/include/*' \
	  --output-file build-coverage/coverage.info
	genhtml --quiet build-coverage/coverage.info --output-directory build-coverage/html
	lcov --summary build-coverage/coverage.info

# The benchmarks: C++ (Google Benchmark), the same workloads in Python, and
# the floors, in one run; one table, bench/results/latest.{json,png}
# (docs/performance.md). BENCH_QUICK=1: under a minute, fewer repetitions.
# Debian's Python, which has the packages above (not another python3 on PATH).
BENCH_BUILD ?= build-bench
BENCH_PYTHON ?= /usr/bin/python3
BENCH_QUICK ?=
BENCH_ARGS ?=
bench:
	@$(ENSURE) $(BENCH_PACKAGES)
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DMULTIPROC_BUILD_TESTS=OFF -DMULTIPROC_BUILD_EXAMPLES=OFF
	cmake --build $(BENCH_BUILD) -j $(JOBS)
	$(BENCH_PYTHON) bench/run.py --build $(BENCH_BUILD) \
	  $(if $(filter-out 0 no false,$(BENCH_QUICK)),--quick) $(BENCH_ARGS)

FORMAT_FILES = $(shell git ls-files '*.cpp' '*.hpp')

format:
	@$(ENSURE) $(LINT_PACKAGES)
	clang-format -i $(FORMAT_FILES)

format-check:
	@$(ENSURE) $(LINT_PACKAGES)
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD) build-asan build-coverage $(BENCH_BUILD) build-fuzz
