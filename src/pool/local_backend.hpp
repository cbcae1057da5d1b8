// The local worker backend: workers are processes on this machine, started
// with the pool's start method. With fork, the first workers are forked from
// the parent itself (it has one thread then) and every replacement comes
// from the pool's zygote (or the program's forkserver when it runs one);
// forkserver and spawn start every worker their own way. A worker talks to
// the engine through two Queue cores (one each way) and a shared
// ControlBlock page (control_block.hpp); worker.cpp is its other side.
// Called with the engine's lock held (backend.hpp).
#pragma once

#include <memory>
#include <vector>

#include "multiproc/detail/pool_core.hpp"
#include "pool/backend.hpp"

namespace multiproc::detail {
class ZygoteClient;
}

namespace multiproc::detail::pool {

class LocalBackend final : public WorkerBackend {
 public:
  // `config` is complete (processes and name set). With fork, forks nothing
  // yet: the first start() does.
  explicit LocalBackend(const PoolConfig& config);
  ~LocalBackend() override;

  std::vector<std::unique_ptr<WorkerHandle>> start(std::size_t n) override;
  void close() noexcept override;
  void stop() noexcept override;

 private:
  PoolConfig config_;
  StartMethod method_;
  std::unique_ptr<ZygoteClient> zygote_;
  std::size_t next_number_ = 1;
  bool first_ = true;
};

}  // namespace multiproc::detail::pool
