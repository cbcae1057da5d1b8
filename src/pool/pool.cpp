#include "multiproc/pool.hpp"

#include "multiproc/detail/option_checks.hpp"

namespace multiproc {

Pool::Pool(PoolOptions options) {
  detail::check_pool_options(options);  // before any fork
  detail::PoolConfig config;
  config.processes = options.processes;
  config.start_method = options.start_method;
  config.maxtasksperchild = options.maxtasksperchild;
  config.task_timeout = options.task_timeout;
  config.max_memory_per_child = options.max_memory_per_child;
  config.kill_task_over_memory = options.kill_task_over_memory;
  config.contain = options.contain;
  config.kill_task_leftovers = options.contain && options.kill_task_leftovers;
  config.name = std::move(options.name);
  config.initializer = options.initializer.target();
  core_ = std::make_shared<detail::PoolCore>(std::move(config));
}

Pool::~Pool() {
  terminate();
}

}  // namespace multiproc
