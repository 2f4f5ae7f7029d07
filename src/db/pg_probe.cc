#include "db/pg_probe.h"

#include <sys/epoll.h>

#include <cstdlib>
#include <vector>

namespace ballast::db {

PgProbe::PgProbe(core::EventLoop& loop, std::string conninfo, int64_t timeout_ms)
    : loop_(loop), conninfo_(std::move(conninfo)), timeout_ms_(timeout_ms) {}

PgProbe::~PgProbe() {
  close_connection();
}

const char* PgProbe::query() {
  // pg_current_wal_lsn() fails in recovery and pg_is_wal_replay_paused() outside it: each is
  // asked only where it answers. LSNs as byte positions (lsn - '0/0').
  return "SELECT pg_is_in_recovery(),"
         " CASE WHEN pg_is_in_recovery() THEN NULL ELSE (pg_current_wal_lsn() - '0/0')::bigint "
         "END,"
         " (pg_last_wal_receive_lsn() - '0/0')::bigint,"
         " (pg_last_wal_replay_lsn() - '0/0')::bigint,"
         " CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END,"
         " (SELECT timeline_id FROM pg_control_checkpoint())";
}

std::optional<PatroniStatus> PgProbe::status_from_row(const std::vector<std::string>& row,
                                                      std::string* error) {
  if (row.size() != 6 || (row[0] != "t" && row[0] != "f")) {
    *error = "an unexpected answer to the role query";
    return std::nullopt;
  }
  auto number = [](const std::string& text) -> uint64_t {
    return text.empty() ? 0 : std::strtoull(text.c_str(), nullptr, 10);
  };
  PatroniStatus s;
  bool recovery = row[0] == "t";
  s.role = recovery ? Role::kReplica : Role::kPrimary;
  s.confirmed_primary = !recovery;
  s.state = "running";
  s.wal_position = number(row[1]);
  s.received = number(row[2]);
  s.replayed = number(row[3]);
  s.replay_paused = row[4] == "t";
  s.timeline = number(row[5]);
  return s;
}

void PgProbe::check(Done done) {
  done_ = std::move(done);
  result_.reset();
  error_.clear();
  loop_.timers().arm(timer_, timeout_ms_, loop_.now_ms());
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) {
    send_query();
    return;
  }
  close_connection();
  conn_ = PQconnectStart(conninfo_.c_str());
  if (conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD) {
    std::string why = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
    return loop_.post([this, why, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.lock()) fail(why);
    });
  }
  PQsetnonblocking(conn_, 1);
  phase_ = Phase::kConnecting;
  fd_ = PQsocket(conn_);
  watch(EPOLLOUT);  // PQconnectStart has begun a non-blocking connect
}

void PgProbe::on_io(uint32_t /*events*/) {
  drive();
}

void PgProbe::drive() {
  if (phase_ == Phase::kConnecting) {
    PostgresPollingStatusType r = PQconnectPoll(conn_);
    if (PQsocket(conn_) != fd_) {  // libpq moved to another address of the host
      watch(0);
      fd_ = PQsocket(conn_);
    }
    if (r == PGRES_POLLING_FAILED) return fail(PQerrorMessage(conn_));
    if (r == PGRES_POLLING_READING) return watch(EPOLLIN);
    if (r == PGRES_POLLING_WRITING) return watch(EPOLLOUT);
    if (r == PGRES_POLLING_OK) send_query();
    return;
  }
  if (phase_ != Phase::kQuerying) return;
  int flushed = PQflush(conn_);
  if (flushed < 0) return fail(PQerrorMessage(conn_));
  if (PQconsumeInput(conn_) == 0) return fail(PQerrorMessage(conn_));
  if (PQisBusy(conn_) != 0) return watch(flushed == 1 ? EPOLLIN | EPOLLOUT : EPOLLIN);
  read_results();
}

void PgProbe::send_query() {
  phase_ = Phase::kQuerying;
  if (PQsendQuery(conn_, query()) == 0) {
    std::string why = PQerrorMessage(conn_);
    return loop_.post([this, why, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.lock()) fail(why);
    });
  }
  watch(EPOLLIN | EPOLLOUT);
}

void PgProbe::read_results() {
  std::optional<PatroniStatus> status;
  std::string error;
  while (PGresult* r = PQgetResult(conn_)) {
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !status && error.empty()) {
      std::vector<std::string> row;
      for (int c = 0; c < PQnfields(r); ++c) {
        row.push_back(PQgetisnull(r, 0, c) ? "" : PQgetvalue(r, 0, c));
      }
      status = status_from_row(row, &error);
    } else if (PQresultStatus(r) != PGRES_TUPLES_OK && error.empty()) {
      error = PQresultErrorMessage(r);
    }
    PQclear(r);
  }
  watch(0);
  phase_ = Phase::kIdle;
  if (status) return succeed(*status);
  fail(error.empty() ? "no answer to the role query" : error);
}

void PgProbe::watch(uint32_t events) {
  if (events == watching_) return;
  if (watching_ != 0) loop_.remove(fd_);
  watching_ = events;
  if (events != 0 && fd_ >= 0) loop_.add_level_triggered(fd_, events, this);
}

void PgProbe::succeed(const PatroniStatus& status) {
  finish(status, "");
}

void PgProbe::fail(const std::string& why) {
  std::string text = why;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  close_connection();  // the next check connects again
  finish(std::nullopt, "PostgreSQL: " + text);
}

void PgProbe::finish(const std::optional<PatroniStatus>& status, const std::string& error) {
  timer_.cancel();
  if (!done_) return;
  Done done = std::move(done_);
  done_ = nullptr;
  done(status, error);
}

void PgProbe::close_connection() {
  watch(0);
  phase_ = Phase::kIdle;
  fd_ = -1;
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
}

void PgProbe::on_timeout(void* self) {
  auto* p = static_cast<PgProbe*>(self);
  p->fail("no answer within " + std::to_string(p->timeout_ms_) + " ms");
}

}  // namespace ballast::db
