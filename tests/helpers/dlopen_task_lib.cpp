// Loaded by the start-method tests with dlopen only (never linked).
extern "C" int mp_test_dlopen_negate_plus(int x) {
  return 100 - x;
}
