// Functions that live in shared libraries, for the start-method tests: the
// child must find them by object file and offset, not by address.
#pragma once

extern "C" {
// In libmp_test_linked.so, linked into the test binary: returns 3 * x.
int mp_test_library_triple(int x);
}
