#pragma once
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/event_loop.h"

namespace ballast::alarms {

// Delivers alarm notifications by HTTP POST, on the caller's event loop and never
// blocking it: each delivery connects, sends, and waits for a 2xx within the timeout,
// and is retried with backoff when it fails (refused, timed out, a non-2xx status).
class WebhookSender {
 public:
  struct Options {
    int attempts = 3;
    int64_t timeout_ms = 5000;
    int64_t first_backoff_ms = 1000;  // doubles after each failure
  };
  explicit WebhookSender(core::EventLoop& loop) : WebhookSender(loop, Options{}) {}
  WebhookSender(core::EventLoop& loop, Options options);
  ~WebhookSender();
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  void send(const config::AlarmAction& action, std::string json_body);

 private:
  class Delivery;
  friend class Delivery;
  void finished(Delivery* d);

  core::EventLoop& loop_;
  Options options_;
  std::vector<std::unique_ptr<Delivery>> deliveries_;
};

}  // namespace ballast::alarms
