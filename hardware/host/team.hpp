// A team of worker threads, one per CPU and pinned there, that run a job together. Each run passes a
// barrier (the workers sleep between runs) and then a spinning rendezvous, so all threads start their timed
// regions within a microsecond or so; each thread times its own region and the slowest sets the time.
#pragma once

#include <atomic>
#include <barrier>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

namespace hardware::host {

class Team {
 public:
  explicit Team(std::vector<int> cpus);
  ~Team();
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  int size() const { return static_cast<int>(cpus_.size()); }
  const std::vector<int>& cpus() const { return cpus_; }
  bool pinned() const { return !pin_failed_; }  // every worker runs on its own CPU

  // Runs job(i) on worker i, all at once; returns the slowest worker's time in seconds. Rethrows the first
  // exception a job threw.
  double run(const std::function<void(int)>& job);

 private:
  void work(int index);

  std::vector<int> cpus_;
  std::barrier<> start_, done_;
  std::atomic<long long> arrived_{0};  // workers through the rendezvous, over all runs
  long long runs_ = 0;
  const std::function<void(int)>* job_ = nullptr;
  bool stop_ = false;
  std::vector<double> seconds_;
  std::vector<std::exception_ptr> errors_;
  std::atomic<bool> pin_failed_{false};
  std::vector<std::thread> threads_;  // last: started once everything above exists
};

}  // namespace hardware::host
