#include "start/program_args.hpp"

#include <atomic>
#include <string>
#include <vector>

namespace multiproc::detail {
namespace {

// A copy: main's argv may be rearranged after init (argument parsers do).
// Never freed, so that a child spawned during exit still finds it.
struct ProgramArgs {
  std::vector<std::string> strings;
  std::vector<char*> pointers;
};
std::atomic<ProgramArgs*> g_args{nullptr};

}  // namespace

void save_program_args(int argc, char** argv) {
  auto* args = new ProgramArgs;
  for (int i = 0; i < argc && argv != nullptr && argv[i] != nullptr; ++i) {
    args->strings.emplace_back(argv[i]);
  }
  if (args->strings.empty()) args->strings.emplace_back("multiproc-child");
  for (std::string& s : args->strings) args->pointers.push_back(s.data());
  args->pointers.push_back(nullptr);
  delete g_args.exchange(args);
}

char* const* program_argv() noexcept {
  ProgramArgs* args = g_args.load();
  return args != nullptr ? args->pointers.data() : nullptr;
}

}  // namespace multiproc::detail
