#include "admin/admin_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "admin/router.h"
#include "core/log.h"
#include "core/sockets.h"
#include "core/timer_queue.h"
#include "http/head_scanner.h"
#include "http/message_parser.h"
#include "http/percent.h"
#include "http/status.h"

namespace ballast::admin {

namespace {
constexpr size_t kMaxBody = 1024 * 1024;
constexpr int64_t kRequestDeadlineMs = 10000;
// How long an answer waits for its change to reach every worker (a few tenths of a
// millisecond when they are well: docs/admin-api.md; a worker stuck for longer must not
// hold the API).
constexpr int64_t kEffectWaitMs = 2000;

// Compares without an early exit, so timing does not reveal how much of a guess matched
// (the length may show; tokens are meant to be long and random).
bool same_secret(std::string_view given, std::string_view secret) {
  if (given.size() != secret.size() || secret.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < secret.size(); ++i) diff |= given[i] ^ secret[i];
  return diff == 0;
}
}  // namespace

AdminResponse error_response(int status, const std::string& message) {
  nlohmann::json j = {{"error", message}};
  return AdminResponse{status, j.dump() + "\n"};
}

// Accepts connections on the admin socket.
class AdminServer::Acceptor final : public core::IoHandler {
 public:
  Acceptor(AdminServer& server, int fd) : server_(server), fd_(fd) {}
  ~Acceptor() override {
    server_.loop_.remove(fd_);
    ::close(fd_);
  }
  void on_io(uint32_t events) override;
  int fd() const { return fd_; }

 private:
  AdminServer& server_;
  int fd_;
};

// One admin request: read it whole, answer, close.
class AdminServer::Connection final : public core::IoHandler, public http::MessageSink {
 public:
  Connection(AdminServer& server, int fd)
      : server_(server),
        fd_(fd),
        scanner_(limits()),
        parser_(http::MessageParser::Kind::kRequest, limits(), this) {}
  ~Connection() override {
    timer_.cancel();
    if (fd_ >= 0) {
      server_.loop_.remove(fd_);
      ::close(fd_);
    }
  }

  void start() {
    server_.loop_.add(fd_, this);
    server_.loop_.timers().arm(timer_, kRequestDeadlineMs, server_.loop_.now_ms());
  }

  void on_io(uint32_t events) override {
    if (done_ || waiting_ || waiting_later_) return;
    if (!answered_) read_request();
    if (answered_ && !done_) write_response();
    if (!answered_ && (events & (EPOLLHUP | EPOLLERR))) finish();
  }

  int on_head(http::MessageHead& head) override {
    request_.method = std::string(head.method);
    std::string_view target = head.target;
    size_t q = target.find('?');
    request_.path = http::percent_decode(target.substr(0, q));
    if (q != std::string_view::npos) request_.query = std::string(target.substr(q + 1));
    authorization_ = std::string(head.find("Authorization"));
    if (head.has_content_length && head.content_length > kMaxBody) too_large_ = true;
    return 0;
  }
  void on_body(const char* data, size_t n) override {
    if (request_.body.size() + n > kMaxBody) {
      too_large_ = true;
      return;
    }
    request_.body.append(data, n);
  }
  void on_message_complete() override { complete_ = true; }

  Connection* prev = nullptr;
  Connection* next = nullptr;

 private:
  static http::HeadLimits limits() { return http::HeadLimits{8 * 1024, 32 * 1024, 100}; }

  void read_request() {
    char chunk[16384];
    while (!answered_) {
      ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n > 0) {
        in_.append(chunk, static_cast<size_t>(n));
        parse();
        continue;
      }
      if (n == 0) {
        finish();  // the client went away before its request was complete
        return;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN) finish();
      return;
    }
  }

  void parse() {
    if (!head_done_) {
      http::ScanStatus st = scanner_.scan(in_);
      if (st == http::ScanStatus::kNeedMore) return;
      if (st != http::ScanStatus::kComplete) {
        answer(error_response(st == http::ScanStatus::kStartLineTooLong ? 414 : 400,
                              "malformed or oversized request head"));
        return;
      }
      head_done_ = true;
    }
    auto result = parser_.execute(in_.data() + parsed_, in_.size() - parsed_);
    parsed_ += result.consumed;
    if (result.status == http::MessageParser::Status::kError) {
      answer(error_response(parser_.error_status(), parser_.error_reason()));
      return;
    }
    if (too_large_) {
      answer(error_response(413, "request body over 1 MiB"));
      return;
    }
    if (complete_) respond(server_.handle(request_, authorization_));
  }

  void respond(AdminResponse r) {
    if (r.later) {
      waiting_later_ = true;
      server_.loop_.timers().arm(timer_, kRequestDeadlineMs, server_.loop_.now_ms());
      std::weak_ptr<bool> alive = alive_;
      r.later->when_given([this, alive](AdminResponse given) {
        if (!alive.lock() || !waiting_later_) return;
        waiting_later_ = false;
        respond(std::move(given));
      });
      return;
    }
    if (!r.in_effect || r.in_effect->done()) {
      answer(r);
      return;
    }
    waiting_ = true;
    server_.loop_.timers().arm(timer_, kEffectWaitMs, server_.loop_.now_ms());
    std::weak_ptr<bool> alive = alive_;
    r.in_effect->then([this, alive] {
      if (alive.lock()) answer_waiting();
    });
    waiting_response_ = std::move(r);
  }

  // The change is in effect, or it took too long: it is recorded either way, and the
  // workers still apply it.
  void answer_waiting() {
    if (!waiting_) return;
    waiting_ = false;
    server_.loop_.timers().arm(timer_, kRequestDeadlineMs, server_.loop_.now_ms());
    answer(waiting_response_);
  }

  void answer(const AdminResponse& r) {
    answered_ = true;
    out_ = "HTTP/1.1 " + std::to_string(r.status) + " " +
           std::string(http::reason_phrase(r.status)) + "\r\nContent-Type: " + r.content_type +
           "\r\nContent-Length: " + std::to_string(r.body.size()) +
           "\r\nCache-Control: no-store\r\nConnection: close\r\n";
    if (r.status == 401) out_ += "WWW-Authenticate: Bearer realm=\"ballast\"\r\n";
    if (!r.allow.empty()) out_ += "Allow: " + r.allow + "\r\n";
    out_ += "\r\n";
    if (request_.method != "HEAD") out_ += r.body;
    write_response();
  }

  void write_response() {
    while (sent_ < out_.size()) {
      ssize_t n = ::send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL);
      if (n > 0) {
        sent_ += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;  // wait for EPOLLOUT
      break;
    }
    finish();
  }

  void finish() {
    if (done_) return;
    done_ = true;
    server_.closed(this);
  }

  static void on_deadline(void* self) {
    auto* c = static_cast<Connection*>(self);
    if (c->waiting_later_) {
      c->waiting_later_ = false;
      c->answer(error_response(504,
                               "no outcome within the request's deadline; the change may "
                               "still happen: check before trying again"));
      return;
    }
    if (c->waiting_) {
      c->answer_waiting();
    } else {
      c->finish();
    }
  }

  AdminServer& server_;
  int fd_;
  http::HeadScanner scanner_;
  http::MessageParser parser_;
  std::string in_;
  size_t parsed_ = 0;
  bool head_done_ = false;
  bool complete_ = false;
  bool too_large_ = false;
  bool answered_ = false;
  bool waiting_ = false;        // for the answer's change to take effect
  bool waiting_later_ = false;  // for the answer itself (AdminResponse::later)
  bool done_ = false;
  AdminResponse waiting_response_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for late callbacks
  AdminRequest request_;
  std::string authorization_;
  std::string out_;
  size_t sent_ = 0;
  core::Timer timer_{&Connection::on_deadline, this};
};

void AdminServer::Acceptor::on_io(uint32_t) {
  for (int i = 0; i < 64; ++i) {
    int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        LOG_WARN("admin: accept: %s", strerror(errno));
      }
      return;
    }
    auto* c = new Connection(server_, fd);
    c->next = server_.connections_;
    if (c->next != nullptr) c->next->prev = c;
    server_.connections_ = c;
    c->start();
  }
}

AdminServer::AdminServer(core::EventLoop& loop, Handler handler)
    : loop_(loop), handler_(std::move(handler)) {}

AdminServer::~AdminServer() {
  close();
}

bool AdminServer::open(const core::SocketAddress& bind, std::string* error) {
  int fd = core::listen_tcp(bind, /*reuse_port=*/false, /*backlog=*/128, error);
  if (fd < 0) return false;
  close();
  acceptor_ = std::make_unique<Acceptor>(*this, fd);
  loop_.add_level_triggered(fd, EPOLLIN, acceptor_.get());
  bound_ = core::local_address(fd);
  return true;
}

void AdminServer::adopt(int fd) {
  close();
  acceptor_ = std::make_unique<Acceptor>(*this, fd);
  loop_.add_level_triggered(fd, EPOLLIN, acceptor_.get());
  bound_ = core::local_address(fd);
}

int AdminServer::listening_fd() const {
  return acceptor_ ? acceptor_->fd() : -1;
}

void AdminServer::close() {
  acceptor_.reset();
  while (connections_ != nullptr) {
    Connection* c = connections_;
    connections_ = c->next;
    delete c;
  }
}

void AdminServer::closed(Connection* c) {
  if (c->prev != nullptr) {
    c->prev->next = c->next;
  } else {
    connections_ = c->next;
  }
  if (c->next != nullptr) c->next->prev = c->prev;
  c->prev = c->next = nullptr;
  loop_.defer_delete([c] { delete c; });
}

AdminResponse AdminServer::handle(const AdminRequest& request,
                                  std::string_view authorization) const {
  bool open = (request.method == "GET" || request.method == "HEAD") && is_public_ &&
              is_public_(request.path);
  if (!token_.empty() && !open) {
    constexpr std::string_view kScheme = "Bearer ";
    std::string_view given = authorization.substr(0, kScheme.size()) == kScheme
                                 ? authorization.substr(kScheme.size())
                                 : std::string_view();
    if (!same_secret(given, token_)) {
      return error_response(401, "missing or wrong bearer token (Authorization: Bearer ...)");
    }
  }
  // The one place where errors become statuses: the client's mistakes say what they are;
  // anything else is ballast's and is logged, not blamed on the client.
  try {
    return handler_(request);
  } catch (const ClientError& e) {
    return error_response(e.status(), e.what());
  } catch (const std::exception& e) {
    LOG_ERROR("admin API: %s %s failed: %s", request.method.c_str(), request.path.c_str(),
              e.what());
    return error_response(
        500, std::string("internal error: ") + e.what() + " (logged; the request may be retried)");
  }
}

}  // namespace ballast::admin
