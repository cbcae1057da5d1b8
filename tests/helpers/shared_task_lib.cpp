#include "helpers/shared_task_lib.hpp"

extern "C" int mp_test_library_triple(int x) {
  return 3 * x;
}
