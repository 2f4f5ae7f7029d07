#include "load/load_runner.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

#include "core/clock.h"
#include "core/event_loop.h"
#include "core/socket_address.h"
#include "core/sockets.h"
#include "core/timer_queue.h"
#include "http/head_scanner.h"
#include "http/message_parser.h"
#include "http/url.h"

namespace ballast::load {

uint64_t LoadReport::errors_total() const {
  uint64_t n = 0;
  for (const auto& [kind, count] : errors) n += count;
  return n;
}

namespace {

struct Target {
  core::SocketAddress address;
  std::string request;  // the GET, sent as is on every request
};

bool parse_url(const std::string& url, Target* t, std::string* error) {
  http::HttpUrl parsed;
  if (!http::parse_http_url(url, &parsed, error)) {
    *error = "URL " + *error;
    return false;
  }
  t->address = parsed.address;
  t->request = "GET " + parsed.path + " HTTP/1.1\r\nHost: " + parsed.host +
               "\r\nUser-Agent: ballast-load\r\nAccept: */*\r\n\r\n";
  return true;
}

class Runner;

// One keep-alive connection carrying one request at a time.
class Connection final : public core::IoHandler, public http::MessageSink {
 public:
  Connection(Runner& runner, int fd)
      : runner_(runner),
        fd_(fd),
        scanner_(limits()),
        parser_(http::MessageParser::Kind::kResponse, limits(), this) {}
  ~Connection() override { close_socket(); }

  // `may_resend`: a failure before any byte of the response on a reused connection sends
  // the request again (once) instead of counting it.
  void send(double intended_s, bool may_resend);
  void on_io(uint32_t events) override;
  bool busy() const { return busy_; }
  bool open() const { return fd_ >= 0; }

  int on_head(http::MessageHead& head) override {
    status_ = head.status;
    keep_alive_ = head.keep_alive;
    return 0;
  }
  void on_body(const char*, size_t) override {}
  void on_message_complete() override { complete_ = true; }

 private:
  static http::HeadLimits limits() { return http::HeadLimits{16 * 1024, 64 * 1024, 256}; }
  static void on_timeout(void* self);
  void fail(const std::string& kind);
  // The server closed or reset the connection before any byte of the response.
  void closed_before_response(const std::string& kind);
  // Idle: anything from the server now (EOF, a reset, stray bytes) ends the connection.
  void check_idle(uint32_t events);
  void read();
  void close_socket();

  Runner& runner_;
  int fd_;
  http::HeadScanner scanner_;
  http::MessageParser parser_;
  std::string in_;
  size_t sent_ = 0;
  bool busy_ = false;
  bool head_done_ = false;
  bool complete_ = false;
  bool keep_alive_ = true;
  bool may_resend_ = false;
  uint64_t requests_ = 0;  // sent on this connection, the current one included
  int status_ = 0;
  double intended_s_ = 0;
  core::Timer timer_{&Connection::on_timeout, this};
};

class Runner {
 public:
  Runner(const LoadOptions& o, const Target& t, LoadReport& r)
      : options_(o), target_(t), report_(r) {}

  void run() {
    start_us_ = core::monotonic_us();
    next_s_ = options_.profile.first_arrival();
    loop_.update_time();
    loop_.timers().arm(tick_, 1, loop_.now_ms());
    loop_.run();
    report_.elapsed_s = now_s();
  }

  double now_s() const { return static_cast<double>(core::monotonic_us() - start_us_) / 1e6; }
  core::EventLoop& loop() { return loop_; }
  const Target& target() const { return target_; }
  int64_t timeout_ms() const { return options_.timeout_ms; }

  void finished(Connection* c, int status, double intended_s) {
    uint64_t us = static_cast<uint64_t>(std::max(0.0, now_s() - intended_s) * 1e6);
    report_.latency.record(us);
    ++report_.completed;
    ++report_.statuses[status];
    if (status >= 200 && status < 400) {
      ++report_.ok;
    } else {
      count_error("status " + std::to_string(status));
    }
    if (c->open()) {
      idle_.push_back(c);
    } else {
      dead_.push_back(c);  // the server closed it after the response
      loop_.defer_delete([this] { sweep(); });
    }
    dispatch();
  }

  void failed(Connection* c, const std::string& kind) {
    count_error(kind);
    retire(c);
    dispatch();
  }

  // The server closed a reused connection before answering: nothing was processed, so
  // the request goes again, once, on a new connection.
  void resend(Connection* c, double intended_s) {
    ++report_.resent;
    retire(c);
    waiting_.push_front(Arrival{intended_s, /*resent=*/true});
    dispatch();
  }

  // An idle connection the server closed: dropped before a request picks it.
  void idle_closed(Connection* c) {
    ++report_.idle_closed;
    retire(c);
  }

 private:
  // A request due at `intended_s`; `resent`: its first connection was closed unanswered.
  struct Arrival {
    double intended_s;
    bool resent;
  };

  static void on_tick(void* self) { static_cast<Runner*>(self)->tick(); }

  void count_error(const std::string& kind) {
    ++report_.errors[kind];
    ++report_.errors_by_second[static_cast<int64_t>(now_s())][kind];
  }

  void retire(Connection* c) {
    std::erase(idle_, c);
    dead_.push_back(c);
    loop_.defer_delete([this] { sweep(); });
  }

  void tick() {
    double now = now_s();
    const Profile& p = options_.profile;
    while (next_s_ <= now && next_s_ < p.duration_s) {
      waiting_.push_back(Arrival{next_s_, false});
      ++report_.scheduled;
      next_s_ = p.next_arrival(next_s_);
    }
    dispatch();
    // What is still queued once every free connection took one: the cap at work.
    report_.max_waiting = std::max<uint64_t>(report_.max_waiting, waiting_.size());
    if (options_.progress && now >= next_progress_s_) progress(now);
    bool load_over = next_s_ >= p.duration_s && waiting_.empty();
    bool idle = true;
    for (const auto& c : connections_) idle = idle && !c->busy();
    if ((load_over && idle) ||
        now > p.duration_s + static_cast<double>(options_.timeout_ms) / 1000 + 1) {
      loop_.stop();
      return;
    }
    loop_.timers().arm(tick_, 1, loop_.now_ms());
  }

  void dispatch() {
    while (!waiting_.empty()) {
      Connection* c = nullptr;
      // A resent request goes on a new connection: the idle ones may be as stale.
      while (!waiting_.front().resent && !idle_.empty() && c == nullptr) {
        c = idle_.back();
        idle_.pop_back();
        if (!c->open()) c = nullptr;
      }
      if (c == nullptr) {
        if (static_cast<int>(connections_.size()) >= options_.max_connections) return;
        int fd = core::connect_tcp(target_.address);
        if (fd < 0) {
          count_error(errno == ECONNREFUSED ? "refused" : "connect failed");
          waiting_.pop_front();
          continue;
        }
        connections_.push_back(std::make_unique<Connection>(*this, fd));
        c = connections_.back().get();
        loop_.add(fd, c);
      }
      Arrival next = waiting_.front();
      waiting_.pop_front();
      c->send(next.intended_s, /*may_resend=*/!next.resent);
    }
  }

  void sweep() {
    for (Connection* d : dead_) {
      std::erase_if(idle_, [d](Connection* c) { return c == d; });
      std::erase_if(connections_, [d](const auto& c) { return c.get() == d; });
    }
    dead_.clear();
  }

  void progress(double now) {
    next_progress_s_ = now + 1;
    fprintf(stderr,
            "load: %5.1fs  rate %7.1f/s  done %-8llu errors %-6llu in flight %-5zu waiting %-6zu "
            "p50 %.2fms p99 %.2fms\n",
            now, options_.profile.rate_at(now), static_cast<unsigned long long>(report_.completed),
            static_cast<unsigned long long>(report_.errors_total()), in_flight(), waiting_.size(),
            report_.latency.quantile(0.5) / 1000, report_.latency.quantile(0.99) / 1000);
  }

  size_t in_flight() const {
    size_t n = 0;
    for (const auto& c : connections_) n += c->busy();
    return n;
  }

  const LoadOptions& options_;
  const Target& target_;
  LoadReport& report_;
  core::EventLoop loop_;
  core::Timer tick_{&Runner::on_tick, this};
  int64_t start_us_ = 0;
  double next_s_ = 0;
  double next_progress_s_ = 1;
  std::deque<Arrival> waiting_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> idle_;
  std::vector<Connection*> dead_;
};

void Connection::send(double intended_s, bool may_resend) {
  busy_ = true;
  ++requests_;
  may_resend_ = may_resend;
  intended_s_ = intended_s;
  sent_ = 0;
  in_.clear();
  head_done_ = complete_ = false;
  status_ = 0;
  scanner_.reset();
  runner_.loop().timers().arm(timer_, runner_.timeout_ms(), runner_.loop().now_ms());
  on_io(EPOLLOUT);
}

void Connection::on_io(uint32_t events) {
  if (fd_ < 0) return;
  if (!busy_) {
    check_idle(events);
    return;
  }
  if (events & EPOLLERR) {
    int err = core::socket_error(fd_);
    fail(err == ECONNREFUSED ? "refused" : "connection error");
    return;
  }
  const std::string& request = runner_.target().request;
  while (sent_ < request.size()) {
    ssize_t n = ::send(fd_, request.data() + sent_, request.size() - sent_, MSG_NOSIGNAL);
    if (n > 0) {
      sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == ENOTCONN)) return;
    if (errno == ECONNREFUSED)
      fail("refused");
    else
      closed_before_response("reset");
    return;
  }
  read();
}

void Connection::check_idle(uint32_t events) {
  if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
  // The server may only speak after a request: EOF, a reset or stray bytes all mean this
  // connection is done (a server that closes idle keep-alive connections does this).
  char byte;
  ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  close_socket();
  runner_.idle_closed(this);
}

void Connection::closed_before_response(const std::string& kind) {
  if (!busy_) return;
  if (!may_resend_ || requests_ < 2 || head_done_ || !in_.empty()) {
    fail(kind);
    return;
  }
  busy_ = false;
  timer_.cancel();
  close_socket();
  runner_.resend(this, intended_s_);
}

void Connection::read() {
  char buf[16384];
  while (busy_) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
      if (!head_done_) {
        http::ScanStatus st = scanner_.scan(in_);
        if (st == http::ScanStatus::kNeedMore) continue;
        if (st != http::ScanStatus::kComplete) {
          fail("invalid response");
          return;
        }
        head_done_ = true;
      }
      auto r = parser_.execute(in_.data(), in_.size());
      if (r.status == http::MessageParser::Status::kError) {
        fail("invalid response");
        return;
      }
      in_.erase(0, r.consumed);
      if (complete_) {
        timer_.cancel();
        busy_ = false;
        parser_.next_message();
        if (!keep_alive_) close_socket();
        runner_.finished(this, status_, intended_s_);
        return;
      }
      continue;
    }
    if (n == 0) {
      auto r = parser_.finish();
      if (head_done_ && (complete_ || r.status == http::MessageParser::Status::kMessageComplete)) {
        timer_.cancel();
        busy_ = false;
        close_socket();
        runner_.finished(this, status_, intended_s_);
      } else if (head_done_) {
        fail("cut short");
      } else {
        closed_before_response("closed");
      }
      return;
    }
    if (errno == EAGAIN || errno == EINTR) return;
    closed_before_response("reset");
    return;
  }
}

void Connection::on_timeout(void* self) {
  static_cast<Connection*>(self)->fail("timeout");
}

void Connection::fail(const std::string& kind) {
  if (!busy_) return;
  busy_ = false;
  timer_.cancel();
  close_socket();
  runner_.failed(this, kind);
}

void Connection::close_socket() {
  timer_.cancel();
  if (fd_ >= 0) {
    runner_.loop().remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace

bool run_load(const LoadOptions& options, LoadReport* report, std::string* error) {
  Target target;
  if (!parse_url(options.url, &target, error)) return false;
  Runner runner(options, target, *report);
  runner.run();
  return true;
}

}  // namespace ballast::load
