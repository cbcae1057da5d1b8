#include "multiproc/detail/code_ref.hpp"

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "multiproc/error.hpp"
#include "sys/proc_fs.hpp"

namespace multiproc::detail {
namespace {

struct Search {
  const char* name;
  std::uint64_t offset;
  bool found_object = false;
  const void* address = nullptr;
};

// Whether [bias + vaddr, + memsz) of an executable PT_LOAD holds bias + offset.
bool in_executable_segment(const dl_phdr_info& info, std::uint64_t offset) {
  for (int i = 0; i < info.dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info.dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    if (offset >= ph.p_vaddr && offset - ph.p_vaddr < ph.p_memsz) return true;
  }
  return false;
}

int visit(dl_phdr_info* info, std::size_t, void* data) {
  auto& s = *static_cast<Search*>(data);
  const char* name = info->dlpi_name != nullptr ? info->dlpi_name : "";
  if (std::strcmp(name, s.name) != 0) return 0;
  s.found_object = true;
  if (in_executable_segment(*info, s.offset)) {
    s.address = reinterpret_cast<const void*>(info->dlpi_addr + s.offset);
  }
  return 1;
}

// Whether the parent process has `path` mapped: a message may only make this
// process load a library its parent loaded, never any file it names.
bool mapped_in_parent(const std::string& path) {
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) return false;
  std::string wanted = real;
  std::free(real);
  return sys::proc::has_mapped(::getppid(), wanted);
}

Search find(const CodeRef& ref) {
  Search s{ref.object.c_str(), ref.offset};
  dl_iterate_phdr(visit, &s);
  return s;
}

}  // namespace

CodeRef code_ref(const void* address) {
  Dl_info info{};
  link_map* map = nullptr;
  if (dladdr1(address, &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) == 0 ||
      map == nullptr) {
    throw UsageError(
        "multiproc: the function to run in the child is in no loaded object file (generated "
        "code?), so another process cannot find it");
  }
  return CodeRef{map->l_name != nullptr ? map->l_name : "",
                 reinterpret_cast<std::uintptr_t>(address) - map->l_addr};
}

const void* resolve_code(const CodeRef& ref) {
  Search s = find(ref);
  if (!s.found_object && !ref.object.empty() && mapped_in_parent(ref.object)) {
    // A shared library the parent loaded with dlopen: load it here too. It
    // stays loaded for the life of the process, as in the parent.
    if (dlopen(ref.object.c_str(), RTLD_NOW | RTLD_LOCAL) != nullptr) s = find(ref);
  }
  if (!s.found_object) {
    throw DecodeError("multiproc: the object file '" + ref.object +
                      "' holding the child's function is not loaded here, and the parent has "
                      "not loaded it either");
  }
  if (s.address == nullptr) {
    throw DecodeError("multiproc: offset " + std::to_string(ref.offset) + " is not code of '" +
                      (ref.object.empty() ? std::string("the main program") : ref.object) + "'");
  }
  return s.address;
}

}  // namespace multiproc::detail
