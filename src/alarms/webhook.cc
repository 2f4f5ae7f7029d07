#include "alarms/webhook.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/log.h"
#include "core/sockets.h"
#include "core/timer_queue.h"

namespace ballast::alarms {

// One notification: attempts until a 2xx or until they are spent.
class WebhookSender::Delivery final : public core::IoHandler {
 public:
  Delivery(WebhookSender& sender, const config::AlarmAction& action, std::string body)
      : sender_(sender), action_(action) {
    request_ = "POST " + action.path + " HTTP/1.1\r\nHost: " + action.host +
               "\r\nUser-Agent: ballast-alarms\r\nContent-Type: application/json\r\n"
               "Content-Length: " +
               std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    backoff_ms_ = sender.options_.first_backoff_ms;
  }
  ~Delivery() override { close_socket(); }

  void start() {
    ++attempt_;
    sent_ = 0;
    response_.clear();
    fd_ = core::connect_tcp(action_.address);
    if (fd_ < 0) {
      fail(std::string("connect: ") + strerror(errno));
      return;
    }
    sender_.loop_.add(fd_, this);
    sender_.loop_.timers().arm(timer_, sender_.options_.timeout_ms, sender_.loop_.now_ms());
  }

  void on_io(uint32_t events) override {
    if (fd_ < 0) return;
    if (events & EPOLLERR) {
      int err = core::socket_error(fd_);
      fail(std::string("connect: ") + strerror(err != 0 ? err : ECONNRESET));
      return;
    }
    while (sent_ < request_.size()) {
      ssize_t n = ::send(fd_, request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
      if (n > 0) {
        sent_ += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      fail(std::string("send: ") + strerror(errno));
      return;
    }
    char buf[4096];
    while (true) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        if (response_.size() < 1024) response_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (response_.find("\r\n") != std::string::npos) check_status();
        return;
      }
      // EOF (or an error after some bytes): the status line decides.
      check_status();
      return;
    }
  }

 private:
  void check_status() {
    int status = 0;
    if (sscanf(response_.c_str(), "HTTP/1.%*d %d", &status) != 1) {
      fail("no HTTP response");
      return;
    }
    if (status < 200 || status > 299) {
      fail("status " + std::to_string(status));
      return;
    }
    close_socket();
    sender_.finished(this);
  }

  void fail(const std::string& why) {
    close_socket();
    if (attempt_ >= sender_.options_.attempts) {
      LOG_WARN("alarm webhook %s: %s; giving up after %d attempts", action_.url.c_str(),
               why.c_str(), attempt_);
      sender_.finished(this);
      return;
    }
    LOG_INFO("alarm webhook %s: %s; retrying in %lldms", action_.url.c_str(), why.c_str(),
             static_cast<long long>(backoff_ms_));
    retrying_ = true;
    sender_.loop_.timers().arm(timer_, backoff_ms_, sender_.loop_.now_ms());
    backoff_ms_ *= 2;
  }

  static void on_timer(void* self) {
    auto* d = static_cast<Delivery*>(self);
    if (d->retrying_) {
      d->retrying_ = false;
      d->start();
    } else {
      d->fail("no answer within " + std::to_string(d->sender_.options_.timeout_ms) + "ms");
    }
  }

  void close_socket() {
    timer_.cancel();
    if (fd_ >= 0) {
      sender_.loop_.remove(fd_);
      ::close(fd_);
      fd_ = -1;
    }
  }

  WebhookSender& sender_;
  config::AlarmAction action_;
  std::string request_;
  std::string response_;
  size_t sent_ = 0;
  int fd_ = -1;
  int attempt_ = 0;
  bool retrying_ = false;
  int64_t backoff_ms_;
  core::Timer timer_{&Delivery::on_timer, this};
};

WebhookSender::WebhookSender(core::EventLoop& loop, Options options)
    : loop_(loop), options_(options) {}

WebhookSender::~WebhookSender() = default;

void WebhookSender::send(const config::AlarmAction& action, std::string json_body) {
  deliveries_.push_back(std::make_unique<Delivery>(*this, action, std::move(json_body)));
  deliveries_.back()->start();
}

void WebhookSender::finished(Delivery* d) {
  for (auto& owned : deliveries_) {
    if (owned.get() != d) continue;
    // It may still be named in this batch of events: free it after.
    Delivery* raw = owned.release();
    loop_.defer_delete([raw] { delete raw; });
  }
  std::erase_if(deliveries_, [](const auto& p) { return p == nullptr; });
}

}  // namespace ballast::alarms
