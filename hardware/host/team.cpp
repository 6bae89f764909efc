#include "hardware/host/team.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace hardware::host {

Team::Team(std::vector<int> cpus)
    : cpus_(std::move(cpus)),
      start_(static_cast<std::ptrdiff_t>(cpus_.size()) + 1),
      done_(static_cast<std::ptrdiff_t>(cpus_.size()) + 1),
      seconds_(cpus_.size()),
      errors_(cpus_.size()) {
  threads_.reserve(cpus_.size());
  for (int i = 0; i < size(); ++i) threads_.emplace_back([this, i] { work(i); });
}

Team::~Team() {
  stop_ = true;
  start_.arrive_and_wait();
  for (auto& t : threads_) t.join();
}

double Team::run(const std::function<void(int)>& job) {
  job_ = &job;
  ++runs_;
  start_.arrive_and_wait();  // publishes job_ and runs_ to the workers
  done_.arrive_and_wait();   // and their results back
  for (auto& e : errors_)
    if (e) std::rethrow_exception(std::exchange(e, nullptr));
  return *std::max_element(seconds_.begin(), seconds_.end());
}

void Team::work(int index) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpus_[static_cast<std::size_t>(index)], &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) pin_failed_ = true;
  const long long workers = size();
  for (;;) {
    start_.arrive_and_wait();
    if (stop_) return;
    // Spin until every worker is here: waking from the barrier takes each thread a different few
    // microseconds, which would otherwise be charged to the slowest thread's time.
    arrived_.fetch_add(1);
    while (arrived_.load() < runs_ * workers) {
    }
    const auto t0 = std::chrono::steady_clock::now();
    try {
      (*job_)(index);
    } catch (...) {
      errors_[static_cast<std::size_t>(index)] = std::current_exception();
    }
    const auto t1 = std::chrono::steady_clock::now();
    seconds_[static_cast<std::size_t>(index)] = std::chrono::duration<double>(t1 - t0).count();
    done_.arrive_and_wait();
  }
}

}  // namespace hardware::host
