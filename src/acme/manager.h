#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "acme/settings.h"
#include "core/thread_annotations.h"
#include "tls/certificate.h"
#include "tls/challenge_board.h"

namespace ballast::acme {

// One listener's automatic certificate, as the current configuration asks for it.
struct Job {
  std::string listener;
  Settings settings;
  // Settings' challenges, less those no listener can answer (HTTP-01 without a plain
  // HTTP listener).
  std::vector<ChallengeType> challenges;
};

// What the manager knows of a job, for the API and metrics.
struct JobStatus {
  std::string listener;
  std::vector<std::string> names;
  int64_t not_after_unix = 0;     // of the stored certificate; 0: none yet
  int64_t next_attempt_unix = 0;  // when the manager looks again
  int failures = 0;               // failed attempts in a row
  std::string last_error;
};

// Keeps every ACME listener's certificate issued and renewed, on a thread of its own so
// that talking to a CA never holds up the control loop. For each job it reads the stored
// certificate: when there is none, it does not cover the names, or its renewal time has
// come, it orders a new one (RFC 8555), stores it, and calls `issued`, which reloads the
// configuration: the listener picks the new certificate up the way a SIGHUP would.
// Failed attempts are retried with growing pauses (acme/renewal.h).
class Manager {
 public:
  using Issued = std::function<void(const std::string& listener)>;
  // `issued` runs on the manager's thread.
  Manager(std::shared_ptr<tls::ChallengeBoard> board, Issued issued);
  ~Manager();  // stops at once: a conversation with a CA is abandoned
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Replaces the jobs (from the control thread, at start and after each reload). A job
  // whose settings did not change keeps its schedule and failure count.
  void configure(std::vector<Job> jobs);
  std::vector<JobStatus> status() const;
  uint64_t issued_total() const { return issued_total_.load(std::memory_order_relaxed); }
  uint64_t failed_total() const { return failed_total_.load(std::memory_order_relaxed); }

 private:
  struct State {
    Job job;
    JobStatus status;
  };
  void run();
  // Works on the job keyed `key`, which is due: renews its certificate when the stored one
  // is missing or at its renewal time, and records when to look again.
  void attempt(const std::string& key, const Job& job);
  // Orders, checks and stores a new certificate for `job`; returns it.
  std::shared_ptr<const tls::Certificate> obtain(const Job& job);
  void wake();

  std::shared_ptr<tls::ChallengeBoard> board_;
  Issued issued_;
  int stop_fd_ = -1;  // readable once stopping: ends waits and conversations
  int wake_fd_ = -1;  // readable when the jobs changed
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> issued_total_{0};
  std::atomic<uint64_t> failed_total_{0};
  mutable core::Mutex mu_;
  std::map<std::string, State> states_ GUARDED_BY(mu_);  // by the certificate's path
  std::thread thread_;
};

}  // namespace ballast::acme
