// The functions a pool's tasks call: each (runner, callable) pair gets an id
// and its FUNCTION message once; a worker is sent the message before its
// first task that needs it (WorkerSlot::functions). Guarded by the engine's
// lock.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "multiproc/detail/pool_task.hpp"
#include "pool/protocol.hpp"

namespace multiproc::detail::pool {

class FunctionTable {
 public:
  std::uint32_t id(PoolRunner runner, const void* fn) {
    auto key = std::make_pair(runner, fn);
    auto it = ids_.find(key);
    if (it != ids_.end()) return it->second;
    auto id = static_cast<std::uint32_t>(messages_.size() + 1);
    FunctionMessage m{id, code_ref_of(runner), std::nullopt};
    if (fn != nullptr) m.callable = code_ref(fn);
    messages_.push_back(encode_function(m));
    ids_.emplace(key, id);
    return id;
  }
  const std::string& message(std::uint32_t id) const { return messages_[id - 1]; }

 private:
  std::map<std::pair<PoolRunner, const void*>, std::uint32_t> ids_;
  std::vector<std::string> messages_;  // index: id - 1
};

}  // namespace multiproc::detail::pool
