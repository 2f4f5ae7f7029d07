#pragma once
#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "core/timer_queue.h"
#include "db/patroni_status.h"

namespace ballast::db {

// Asks one PostgreSQL itself what it is, for a database without Patroni: one connection kept
// open (libpq, non-blocking, on the control loop) and one query per check:
// pg_is_in_recovery(), its WAL positions, whether replay is paused, its timeline. The answer
// has PatroniStatus's shape, so that the same DatabaseState decides: a member not in recovery
// counts as a confirmed primary (nothing else can confirm one here, and nothing promotes a
// replica: that is the operator's act).
class PgProbe final : public core::IoHandler {
 public:
  // The status, or nothing and why.
  using Done =
      std::function<void(const std::optional<PatroniStatus>& status, const std::string& error)>;
  PgProbe(core::EventLoop& loop, std::string conninfo, int64_t timeout_ms);
  ~PgProbe() override;
  PgProbe(const PgProbe&) = delete;
  PgProbe& operator=(const PgProbe&) = delete;

  // One check; `done` runs once, on the loop, never inside check(). One at a time.
  void check(Done done);
  void on_io(uint32_t events) override;

  // The query, and how its one row reads (pure, for the tests).
  static const char* query();
  static std::optional<PatroniStatus> status_from_row(const std::vector<std::string>& row,
                                                      std::string* error);

 private:
  enum class Phase : uint8_t { kIdle, kConnecting, kQuerying };
  void drive();
  void send_query();
  void read_results();
  // Level-triggered interest in the connection's socket (0: none).
  void watch(uint32_t events);
  void succeed(const PatroniStatus& status);
  void fail(const std::string& why);
  void finish(const std::optional<PatroniStatus>& status, const std::string& error);
  void close_connection();
  static void on_timeout(void* self);

  core::EventLoop& loop_;
  std::string conninfo_;
  int64_t timeout_ms_;
  PGconn* conn_ = nullptr;
  int fd_ = -1;
  uint32_t watching_ = 0;
  Phase phase_ = Phase::kIdle;
  Done done_;
  std::optional<PatroniStatus> result_;
  std::string error_;
  core::Timer timer_{&PgProbe::on_timeout, this};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for posted failures
};

}  // namespace ballast::db
