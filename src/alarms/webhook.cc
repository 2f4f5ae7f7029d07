#include "alarms/webhook.h"

#include "core/log.h"
#include "core/timer_queue.h"
#include "http/http_call.h"

namespace ballast::alarms {

// One notification: attempts until a 2xx or until they are spent.
class WebhookSender::Delivery {
 public:
  Delivery(WebhookSender& sender, const config::AlarmAction& action, std::string body)
      : sender_(sender), action_(action), body_(std::move(body)) {
    backoff_ms_ = sender.options_.first_backoff_ms;
  }
  ~Delivery() = default;  // a call still running is closed with it

  void start() {
    ++attempt_;
    http::HttpCallRequest r;
    r.method = "POST";
    r.address = action_.address;
    r.host = action_.host;
    r.path = action_.path;
    r.content_type = "application/json";
    r.body = body_;
    r.user_agent = "ballast-alarms";
    call_ = std::make_unique<http::HttpCall>(
        sender_.loop_, std::move(r), sender_.options_.timeout_ms,
        [this](const http::HttpCallResult& result) { answered(result); }, 1024);
    call_->start();
  }

 private:
  void answered(const http::HttpCallResult& result) {
    retire_call();
    if (!result.answered) return fail(result.error);
    if (result.status < 200 || result.status > 299) {
      return fail("status " + std::to_string(result.status));
    }
    sender_.finished(this);
  }

  void fail(const std::string& why) {
    if (attempt_ >= sender_.options_.attempts) {
      LOG_WARN("alarm webhook %s: %s; giving up after %d attempts", action_.url.c_str(),
               why.c_str(), attempt_);
      sender_.finished(this);
      return;
    }
    LOG_INFO("alarm webhook %s: %s; retrying in %lldms", action_.url.c_str(), why.c_str(),
             static_cast<long long>(backoff_ms_));
    sender_.loop_.timers().arm(retry_timer_, backoff_ms_, sender_.loop_.now_ms());
    backoff_ms_ *= 2;
  }

  static void on_retry(void* self) { static_cast<Delivery*>(self)->start(); }

  // The finished call may still be running its callback: free it after this batch.
  void retire_call() {
    http::HttpCall* raw = call_.release();
    if (raw != nullptr) sender_.loop_.defer_delete([raw] { delete raw; });
  }

  WebhookSender& sender_;
  config::AlarmAction action_;
  std::string body_;
  std::unique_ptr<http::HttpCall> call_;
  int attempt_ = 0;
  int64_t backoff_ms_;
  core::Timer retry_timer_{&Delivery::on_retry, this};
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
