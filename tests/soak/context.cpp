// The soak run's shared context: deadline, counters, checks, activity.
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "soak/soak.hpp"

namespace soak {

namespace mp = multiproc;

Context::Context(Options options)
    : options_(std::move(options)),
      started_(Clock::now()),
      end_(started_ + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(options_.seconds))) {}

mp::StartMethod Context::process_method(Rng& rng) const {
  const std::string& m = options_.start_method;
  if (m == "spawn") return mp::StartMethod::spawn;
  if (m == "forkserver" || m == "fork") return mp::StartMethod::forkserver;
  return rng.chance(0.5) ? mp::StartMethod::spawn : mp::StartMethod::forkserver;
}

mp::StartMethod Context::pool_method(Rng& rng, int epoch) const {
  const std::string& m = options_.start_method;
  if (m == "spawn") return mp::StartMethod::spawn;
  if (m == "forkserver") return mp::StartMethod::forkserver;
  if (m == "fork") return mp::StartMethod::fork;
  if (epoch == 0) return mp::StartMethod::fork;
  return rng.chance(0.5) ? mp::StartMethod::spawn : mp::StartMethod::forkserver;
}

void Context::count(const std::string& what, long n) {
  std::lock_guard guard(mutex_);
  counters_[what] += n;
}

long Context::counted(const std::string& what) const {
  std::lock_guard guard(mutex_);
  auto it = counters_.find(what);
  return it == counters_.end() ? 0 : it->second;
}

std::map<std::string, long> Context::counters() const {
  std::lock_guard guard(mutex_);
  return counters_;
}

void Context::check(const std::string& name, bool passed, const std::string& detail) {
  std::lock_guard guard(mutex_);
  CheckTally& t = checks_[name];
  ++t.made;
  if (passed) return;
  if (t.failed++ < 5) t.failures.push_back(detail);
}

std::map<std::string, CheckTally> Context::checks() const {
  std::lock_guard guard(mutex_);
  return checks_;
}

bool Context::all_passed() const {
  std::lock_guard guard(mutex_);
  for (const auto& [name, t] : checks_) {
    if (t.failed != 0) return false;
  }
  return true;
}

void Context::doing(const std::string& part, const std::string& what) {
  std::lock_guard guard(mutex_);
  activity_[part] = Activity{what, Clock::now(), false};
}

void Context::part_done(const std::string& part) {
  std::lock_guard guard(mutex_);
  activity_[part] = Activity{"done", Clock::now(), true};
}

bool Context::parts_done(const std::vector<std::string>& parts) const {
  std::lock_guard guard(mutex_);
  for (const auto& part : parts) {
    auto it = activity_.find(part);
    if (it == activity_.end() || !it->second.done) return false;
  }
  return true;
}

std::vector<std::string> Context::stalled(std::chrono::seconds quiet) const {
  std::lock_guard guard(mutex_);
  std::vector<std::string> out;
  auto now = Clock::now();
  for (const auto& [part, a] : activity_) {
    if (!a.done && now - a.at > quiet) out.push_back(part + ": " + a.what);
  }
  return out;
}

std::vector<std::string> Context::activity() const {
  std::lock_guard guard(mutex_);
  std::vector<std::string> out;
  auto now = Clock::now();
  for (const auto& [part, a] : activity_) {
    auto ago = std::chrono::duration_cast<std::chrono::milliseconds>(now - a.at).count();
    out.push_back(part + ": " + a.what + " (" + std::to_string(ago) + " ms ago)");
  }
  return out;
}

std::string shm_prefix() {
  return "mp-soak-" + std::to_string(::getpid()) + "-";
}

}  // namespace soak
