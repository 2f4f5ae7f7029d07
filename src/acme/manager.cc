#include "acme/manager.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <random>

#include "acme/acme_client.h"
#include "acme/certificate_store.h"
#include "acme/https_client.h"
#include "acme/renewal.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/time_format.h"
#include "tls/certificate.h"
#include "tls/client_context.h"

namespace ballast::acme {

namespace {

constexpr int64_t kRequestTimeoutMs = 30000;

double jitter() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

Manager::Manager(std::shared_ptr<tls::ChallengeBoard> board, Issued issued)
    : board_(std::move(board)), issued_(std::move(issued)) {
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { run(); });
}

Manager::~Manager() {
  stopping_.store(true);
  uint64_t one = 1;
  ssize_t ignored = ::write(stop_fd_, &one, sizeof(one));
  (void)ignored;
  thread_.join();
  ::close(stop_fd_);
  ::close(wake_fd_);
}

void Manager::configure(std::vector<Job> jobs) {
  {
    core::MutexLock lock(mu_);
    std::map<std::string, State> next;
    for (auto& job : jobs) {
      std::string key = store_paths(job.settings).certificate;
      State state;
      auto old = states_.find(key);
      if (old != states_.end() && old->second.job.settings == job.settings &&
          old->second.job.challenges == job.challenges) {
        state = old->second;  // same order: same schedule
      }
      state.status.listener = job.listener;
      state.status.names = job.settings.names;
      state.job = std::move(job);
      next[key] = std::move(state);
    }
    states_ = std::move(next);
  }
  wake();
}

std::vector<JobStatus> Manager::status() const {
  core::MutexLock lock(mu_);
  std::vector<JobStatus> out;
  for (const auto& [key, s] : states_) out.push_back(s.status);
  return out;
}

void Manager::wake() {
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
  (void)ignored;
}

void Manager::run() {
  while (!stopping_.load()) {
    int64_t now = core::unix_seconds();
    int64_t next = std::numeric_limits<int64_t>::max();
    std::string due_key;
    Job due;
    {
      core::MutexLock lock(mu_);
      for (const auto& [key, s] : states_) {
        if (s.status.next_attempt_unix <= now) {
          due_key = key;
          due = s.job;
          break;
        }
        next = std::min(next, s.status.next_attempt_unix);
      }
    }
    if (!due_key.empty()) {
      attempt(due_key, due);
      continue;
    }
    // Nothing due: sleep until something is, the jobs change, or the process stops.
    int timeout_ms = next == std::numeric_limits<int64_t>::max()
                         ? -1
                         : static_cast<int>(std::clamp<int64_t>((next - now) * 1000, 0, 3600000));
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    ::poll(fds, 2, timeout_ms);
    uint64_t count = 0;
    ssize_t ignored = ::read(wake_fd_, &count, sizeof(count));
    (void)ignored;
  }
}

void Manager::attempt(const std::string& key, const Job& job) {
  std::string problem;
  std::shared_ptr<const tls::Certificate> cert = load_stored_certificate(job.settings, &problem);
  if (!problem.empty()) {
    LOG_WARN("ACME: listener \"%s\": the stored certificate cannot serve (%s); ordering a new one",
             job.listener.c_str(), problem.c_str());
  }
  auto renew_at = [&](const tls::Certificate& c) {
    return renewal_time(c.not_before_unix, c.not_after_unix, job.settings.renew_before_s, jitter());
  };
  int64_t now = core::unix_seconds();
  JobStatus result;
  result.not_after_unix = cert ? cert->not_after_unix : 0;
  int64_t due = cert ? renew_at(*cert) : now;
  if (due > now) {
    result.next_attempt_unix = due;
  } else {
    try {
      cert = obtain(job);
      issued_total_.fetch_add(1, std::memory_order_relaxed);
      result.not_after_unix = cert->not_after_unix;
      result.next_attempt_unix = std::max(now + 1, renew_at(*cert));
    } catch (const std::exception& e) {
      if (stopping_.load()) return;
      failed_total_.fetch_add(1, std::memory_order_relaxed);
      core::MutexLock lock(mu_);
      auto it = states_.find(key);
      int failures = it != states_.end() ? it->second.status.failures + 1 : 1;
      result.failures = failures;
      result.last_error = e.what();
      result.next_attempt_unix = now + retry_delay_s(failures, jitter());
      LOG_WARN("ACME: listener \"%s\": %s; trying again in %llds", job.listener.c_str(), e.what(),
               static_cast<long long>(result.next_attempt_unix - now));
    }
  }
  core::MutexLock lock(mu_);
  auto it = states_.find(key);
  // A reload may have changed the job meanwhile: its own schedule stands.
  if (it == states_.end() || !(it->second.job.settings == job.settings)) return;
  result.listener = it->second.status.listener;
  result.names = it->second.status.names;
  it->second.status = result;
}

std::shared_ptr<const tls::Certificate> Manager::obtain(const Job& job) {
  StorePaths paths = store_paths(job.settings);
  tls::PkeyPtr account = load_or_create_account_key(paths.account_key);
  tls::ClientSettings tls_settings;
  tls_settings.ca_file = job.settings.ca;
  HttpsClient https(tls::ClientContext::build(tls_settings), stop_fd_, kRequestTimeoutMs);
  Client client(https, account.get(), *board_, stop_fd_);
  LOG_INFO("ACME: listener \"%s\": ordering a certificate for %zu name(s) from %s",
           job.listener.c_str(), job.settings.names.size(), job.settings.directory.c_str());
  acme::Issued issued = client.obtain(job.settings, job.challenges);
  // What came is checked before it replaces anything: it loads, its key matches, it
  // covers every name.
  std::string incoming = paths.certificate + ".issued";
  write_file_atomically(incoming, issued.chain_pem + issued.key_pem, 0600);
  auto cert = tls::load_certificate(tls::CertificateFiles{incoming, incoming, ""});
  if (!covers(*cert, job.settings.names)) {
    ::unlink(incoming.c_str());
    throw Error("the issued certificate does not cover every name asked for");
  }
  if (::rename(incoming.c_str(), paths.certificate.c_str()) != 0) {
    throw Error("\"" + paths.certificate + "\": cannot replace it (" + strerror(errno) + ")");
  }
  LOG_INFO("ACME: listener \"%s\": new certificate for %s, valid until %s, in %s",
           job.listener.c_str(), job.settings.names.front().c_str(),
           core::iso8601_utc(cert->not_after_unix).c_str(), paths.certificate.c_str());
  issued_(job.listener);
  return cert;
}

}  // namespace ballast::acme
