// ChildSpec: construction and the checks Erlang makes on a child spec.
#include "multiproc/error.hpp"
#include "multiproc/supervisor.hpp"

namespace multiproc {

ChildSpec::ChildSpec(std::string name, ChildOptions options)
    : name_(std::move(name)), options_(std::move(options)) {
  if (name_.empty()) throw UsageError("ChildSpec: a child needs a name");
  if (options_.significant && options_.restart == Restart::permanent)
    throw UsageError("ChildSpec '" + name_ +
                     "': a permanent child cannot be significant (it never ends for good); "
                     "make it transient or temporary");
  if (options_.shutdown_timeout.count() < 0)
    throw UsageError("ChildSpec '" + name_ + "': negative shutdown_timeout");
}

ChildSpec ChildSpec::command(std::string name, ChildOptions options, Command command) {
  if (command.argv.empty() || command.argv[0].empty())
    throw UsageError("ChildSpec '" + name + "': a command needs a non-empty argv");
  ChildSpec spec(std::move(name), std::move(options));
  spec.command_ = std::move(command);
  return spec;
}

}  // namespace multiproc
