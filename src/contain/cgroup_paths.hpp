// Where this process's cgroup v2 directory is: the cgroup2 mount from
// /proc/self/mountinfo, the process's cgroup from /proc/self/cgroup (its
// "0::" line). The parsers take the files' contents, so tests feed them
// recorded ones (a hybrid host, a pure v2 host, a container).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace multiproc::detail::contain {

// The mount point of the first cgroup2 filesystem in a mountinfo text
// (proc(5)), with its octal escapes (\040 for a space...) decoded; nullopt
// when there is none.
std::optional<std::string> cgroup2_mount(std::string_view mountinfo);

// The cgroup v2 path ("/user.slice/...") in a /proc/<pid>/cgroup text: the
// line "0::<path>". nullopt when there is none, or when the path is
// "(deleted)" or unreachable ("/.." from another cgroup namespace).
std::optional<std::string> cgroup2_path(std::string_view proc_cgroup);

// The directory of this process's cgroup: mount + path, with no doubled
// slash; nullopt when either is unknown.
std::optional<std::string> own_cgroup_directory();

}  // namespace multiproc::detail::contain
