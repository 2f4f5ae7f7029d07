#include "scale/external_metric.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "config/autoscaling_reader.h"
#include "core/log.h"
#include "core/sockets.h"
#include "http/percent.h"
#include "http/url.h"
#include "scale/child_process.h"

namespace ballast::scale {

namespace {
constexpr size_t kMaxBody = 1 << 20;

std::optional<double> number_in(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {  // Prometheus gives sample values as strings
    char* end = nullptr;
    std::string s = v.get<std::string>();
    double d = strtod(s.c_str(), &end);
    if (end != s.c_str() && *end == '\0') return d;
  }
  return std::nullopt;
}

std::string query_escape(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}
}  // namespace

std::optional<double> parse_external_value(const config::PolicyMetric& metric,
                                           const std::string& body, std::string* error) {
  using K = config::PolicyMetric::Kind;
  if (metric.kind == K::kCommand || (metric.kind == K::kHttpJson && metric.json_path.empty())) {
    char* end = nullptr;
    double v = strtod(body.c_str(), &end);
    while (end != nullptr && *end != '\0' && isspace(static_cast<unsigned char>(*end))) ++end;
    if (end == body.c_str() || *end != '\0' || !std::isfinite(v)) {
      *error = "the output is not a number: \"" + body.substr(0, 80) + "\"";
      return std::nullopt;
    }
    return v;
  }
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded()) {
    *error = "the answer is not JSON";
    return std::nullopt;
  }
  if (metric.kind == K::kPrometheus) {
    // {"status":"success","data":{"resultType":"vector","result":[{"value":[t,"42"]}]}}
    const auto& data = doc.value("data", nlohmann::json::object());
    const auto& result = data.value("result", nlohmann::json());
    std::optional<double> v;
    if (result.is_array() && !result.empty() && result[0].contains("value"))
      v = number_in(result[0]["value"][1]);
    else if (data.value("resultType", "") == "scalar" && result.is_array() && result.size() == 2)
      v = number_in(result[1]);
    if (!v) *error = "the query returned no sample";
    return v;
  }
  try {
    auto v = number_in(doc.at(nlohmann::json::json_pointer(metric.json_path)));
    if (!v) *error = metric.json_path + " is not a number";
    return v;
  } catch (const std::exception&) {
    *error = "the JSON has nothing at " + metric.json_path;
    return std::nullopt;
  }
}

// One HTTP/1.0 GET (so the answer is never chunked), read until the server closes.
class ExternalMetric::Fetch final : public core::IoHandler {
 public:
  Fetch(ExternalMetric& owner, int64_t deadline_ms) : owner_(owner), deadline_ms_(deadline_ms) {}
  ~Fetch() override {
    if (fd_ >= 0) {
      owner_.loop_.remove(fd_);
      ::close(fd_);
    }
    retire(owner_.loop_, std::move(child_));
  }

  void start_command(const std::string& command) {
    SpawnOptions options;
    options.command = command;
    options.capture_output = true;
    std::string error;
    child_ = ChildProcess::spawn(
        owner_.loop_, options,
        [this](int status) {
          std::string out = child_->output();
          bool ok = status == 0;
          done(ok, out, ok ? "" : "command " + describe_exit(status));
        },
        &error);
    if (!child_ || !error.empty()) fail(error);
  }

  void start_get(const std::string& url) {
    http::HttpUrl parsed;
    std::string error;
    if (!http::parse_http_url(url, &parsed, &error)) return fail(error);
    request_ = "GET " + parsed.path + " HTTP/1.0\r\nHost: " + parsed.host +
               "\r\nUser-Agent: ballast-autoscaler\r\nAccept: application/json\r\n\r\n";
    fd_ = core::connect_tcp(parsed.address);
    if (fd_ < 0) return fail(std::string("connect: ") + strerror(errno));
    owner_.loop_.add(fd_, this);
  }

  void on_io(uint32_t events) override {
    if (fd_ < 0 || finished_) return;
    if (events & EPOLLERR)
      return fail(std::string("connect: ") + strerror(core::socket_error(fd_)));
    while (sent_ < request_.size()) {
      ssize_t n = ::send(fd_, request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
      if (n > 0) {
        sent_ += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      return fail(std::string("send: ") + strerror(errno));
    }
    char buf[16384];
    while (true) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        if (response_.size() + static_cast<size_t>(n) > kMaxBody) return fail("answer over 1 MiB");
        response_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      break;  // closed: the whole answer is here
    }
    int status = 0;
    size_t head_end = response_.find("\r\n\r\n");
    if (sscanf(response_.c_str(), "HTTP/1.%*d %d", &status) != 1 || head_end == std::string::npos)
      return fail("no HTTP response");
    if (status != 200) return fail("status " + std::to_string(status));
    done(true, response_.substr(head_end + 4), "");
  }

  void check_deadline(int64_t now_ms) {
    if (!finished_ && now_ms >= deadline_ms_) fail("no answer in time");
  }

 private:
  void fail(const std::string& why) { done(false, "", why); }
  void done(bool ok, const std::string& body, const std::string& error) {
    if (finished_) return;
    finished_ = true;
    owner_.finished(ok, body, error, owner_.loop_.now_ms());  // destroys this (deferred)
  }

  ExternalMetric& owner_;
  int64_t deadline_ms_;
  std::unique_ptr<ChildProcess> child_;
  int fd_ = -1;
  std::string request_;
  size_t sent_ = 0;
  std::string response_;
  bool finished_ = false;
};

ExternalMetric::ExternalMetric(core::EventLoop& loop, const config::PolicyMetric& metric)
    : loop_(loop), metric_(metric) {}

ExternalMetric::~ExternalMetric() = default;

void ExternalMetric::poll(int64_t now_ms) {
  if (fetch_) {
    fetch_->check_deadline(now_ms);
    return;
  }
  if (now_ms < next_poll_ms_) return;
  next_poll_ms_ = now_ms + metric_.poll_interval_ms;
  int64_t deadline = now_ms + std::max<int64_t>(1000, metric_.poll_interval_ms);
  fetch_ = std::make_unique<Fetch>(*this, deadline);
  using K = config::PolicyMetric::Kind;
  Fetch* f = fetch_.get();
  if (metric_.kind == K::kCommand) {
    f->start_command(metric_.command);
  } else if (metric_.kind == K::kPrometheus) {
    std::string base = metric_.url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    f->start_get(base + "/api/v1/query?query=" + query_escape(metric_.query));
  } else {
    f->start_get(metric_.url);
  }
}

void ExternalMetric::finished(bool ok, const std::string& body, const std::string& error,
                              int64_t now_ms) {
  Fetch* raw = fetch_.release();
  if (raw != nullptr) loop_.defer_delete([raw] { delete raw; });
  std::string why = error;
  std::optional<double> v;
  if (ok) v = parse_external_value(metric_, body, &why);
  if (v) {
    value_ = v;
    value_ms_ = now_ms;
    last_error_.clear();
    return;
  }
  if (why != last_error_) {
    LOG_WARN("external metric (%s): %s", config::policy_metric_name(metric_.kind), why.c_str());
  }
  last_error_ = why;
}

std::optional<double> ExternalMetric::value(int64_t now_ms) const {
  if (!value_ || now_ms - value_ms_ > 3 * metric_.poll_interval_ms + 1000) return std::nullopt;
  return value_;
}

}  // namespace ballast::scale
