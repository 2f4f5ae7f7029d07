#include "scale/external_metric.h"

#include <signal.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "config/autoscaling_reader.h"
#include "core/log.h"
#include "http/url.h"
#include "scale/child_process.h"

namespace ballast::scale {

namespace {
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

namespace {
std::optional<double> read_external_value(const config::PolicyMetric& metric,
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
}  // namespace

std::optional<double> parse_external_value(const config::PolicyMetric& metric,
                                           const std::string& body, std::string* error) {
  std::optional<double> v = read_external_value(metric, body, error);
  if (!v) return v;
  // Prometheus writes "NaN" and "+Inf" for empty and unbounded samples; a huge value would
  // overflow the capacity arithmetic. Both are refused with the value in the message.
  if (!std::isfinite(*v)) {
    *error = "the value is not a finite number (" + std::to_string(*v) + ")";
    return std::nullopt;
  }
  if (*v < 0 || *v > kMaxExternalValue) {
    char text[64];
    snprintf(text, sizeof(text), "%g", *v);
    *error = std::string("the value ") + text + " is outside the accepted range 0 to " +
             std::to_string(static_cast<long long>(kMaxExternalValue));
    return std::nullopt;
  }
  return v;
}

ExternalMetric::ExternalMetric(core::EventLoop& loop, const config::PolicyMetric& metric)
    : loop_(loop), metric_(metric) {
  using K = config::PolicyMetric::Kind;
  if (metric_.kind != K::kHttpJson && metric_.kind != K::kPrometheus) return;
  std::string url = metric_.url;
  if (metric_.kind == K::kPrometheus) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    url += "/api/v1/query?query=" + query_escape(metric_.query);
  }
  // Resolved once, here: a lookup at every poll would block the control loop.
  http::HttpUrl parsed;
  if (!http::parse_http_url(url, &parsed, &last_error_)) return;
  request_.address = parsed.address;
  request_.host = parsed.host;
  request_.path = parsed.path;
  request_.user_agent = "ballast-autoscaler";
  http_ready_ = true;
}

ExternalMetric::~ExternalMetric() = default;

void ExternalMetric::poll(int64_t now_ms) {
  if (command_) {
    if (now_ms >= command_deadline_ms_ && !command_timed_out_) {
      command_timed_out_ = true;
      command_->signal_group(SIGKILL);  // its exit reports the timeout
    }
    return;
  }
  if (call_ || now_ms < next_poll_ms_) return;  // a call in progress bounds itself
  next_poll_ms_ = now_ms + metric_.poll_interval_ms;
  int64_t timeout = std::max<int64_t>(1000, metric_.poll_interval_ms);
  if (metric_.kind == config::PolicyMetric::Kind::kCommand) {
    run_command(now_ms + timeout);
  } else if (http_ready_) {
    call_ = std::make_unique<http::HttpCall>(
        loop_, request_, timeout, [this](const http::HttpCallResult& r) {
          http::HttpCall* raw = call_.release();
          loop_.defer_delete([raw] { delete raw; });
          if (!r.answered) return finished(false, "", r.error);
          if (r.status != 200) return finished(false, "", "status " + std::to_string(r.status));
          finished(true, r.body, "");
        });
    call_->start();
  }
}

void ExternalMetric::run_command(int64_t deadline_ms) {
  SpawnOptions options;
  options.command = metric_.command;
  options.capture_output = true;
  std::string error;
  command_timed_out_ = false;
  command_deadline_ms_ = deadline_ms;
  command_ = ChildProcess::spawn(
      loop_, options,
      [this](int status) {
        std::string out = command_->output();
        retire(loop_, std::move(command_));
        if (command_timed_out_) return finished(false, "", "the command gave no answer in time");
        if (status != 0) return finished(false, "", "command " + describe_exit(status));
        finished(true, out, "");
      },
      &error);
  if (!command_ || !error.empty()) {
    retire(loop_, std::move(command_));
    finished(false, "", error);
  }
}

void ExternalMetric::finished(bool ok, const std::string& body, const std::string& error) {
  std::string why = error;
  std::optional<double> v;
  if (ok) v = parse_external_value(metric_, body, &why);
  if (v) {
    value_ = v;
    value_ms_ = loop_.now_ms();
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
