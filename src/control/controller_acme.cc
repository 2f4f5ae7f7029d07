// Automatic certificates: the ACME manager's jobs from the configuration, its reloads, and
// its figures for /metrics.
#include "control/controller.h"
#include "core/log.h"
#include "metrics/prometheus.h"

namespace ballast::control {

namespace {

// HTTP-01 needs a plain HTTP listener for the CA to fetch from (its port 80); without
// one, only TLS-ALPN-01 can succeed, and offering HTTP-01 would just fail.
std::vector<acme::ChallengeType> answerable(const config::Config& config,
                                            const std::vector<acme::ChallengeType>& wanted) {
  bool plain_http = false;
  for (const auto& l : config.listeners) {
    plain_http =
        plain_http || (!l.tls.enabled && l.protocol == config::ListenerConfig::Protocol::kHttp);
  }
  std::vector<acme::ChallengeType> out;
  for (auto type : wanted) {
    if (type != acme::ChallengeType::kHttp01 || plain_http) out.push_back(type);
  }
  return out;
}

}  // namespace

void Controller::configure_acme() {
  std::vector<acme::Job> jobs;
  for (const auto& l : config_->listeners) {
    if (!l.tls.acme) continue;
    acme::Job job{l.name, *l.tls.acme, answerable(*config_, l.tls.acme->challenges)};
    if (job.challenges.empty()) {
      LOG_ERROR(
          "listener \"%s\": ACME can answer none of its challenges (http-01 needs a plain HTTP "
          "listener on port 80); no certificate will be ordered",
          l.name.c_str());
      continue;
    }
    jobs.push_back(std::move(job));
  }
  if (jobs.empty() && !acme_) return;
  if (!acme_) {
    if (!config_->acme_challenges) return;
    // The manager's thread asks for the reload; the control loop runs it.
    acme_ = std::make_unique<acme::Manager>(config_->acme_challenges, [this](const std::string&) {
      loop_.post([this] { reload("ACME certificate"); });
    });
  }
  acme_->configure(std::move(jobs));
}

nlohmann::json Controller::certificates_json() const {
  std::vector<acme::JobStatus> jobs = acme_ ? acme_->status() : std::vector<acme::JobStatus>{};
  nlohmann::json listeners = nlohmann::json::array();
  for (const auto& l : config_->listeners) {
    if (!l.tls.context) continue;
    const tls::ServerSettings& settings = l.tls.context->settings();
    nlohmann::json certificates = nlohmann::json::array();
    for (size_t i = 0; i < settings.certificates.size(); ++i) {
      const tls::Certificate& c = *settings.certificates[i];
      certificates.push_back({{"file", c.files.cert},
                              {"names", c.names},
                              {"key", c.key_type},
                              {"not_before", c.not_before_unix},
                              {"not_after", c.not_after_unix},
                              {"default", i == settings.default_certificate},
                              {"ocsp_stapled", !c.ocsp_response.empty()}});
    }
    nlohmann::json entry = {{"listener", l.name}, {"certificates", certificates}};
    for (const auto& j : jobs) {
      if (j.listener != l.name) continue;
      entry["acme"] = {{"directory", l.tls.acme ? l.tls.acme->directory : ""},
                       {"names", j.names},
                       {"stored_not_after", j.not_after_unix},
                       {"next_attempt", j.next_attempt_unix},
                       {"consecutive_failures", j.failures},
                       {"last_error", j.last_error}};
    }
    listeners.push_back(std::move(entry));
  }
  return {{"listeners", listeners}};
}

void Controller::render_acme_metrics(metrics::PrometheusWriter& w) const {
  using Type = metrics::PrometheusWriter::Type;
  if (config_->acme_challenges) {
    w.family("ballast_acme_challenges_answered_total", Type::kCounter,
             "ACME challenges ballast answered for its CA, by type.");
    w.sample({{"type", "http-01"}}, static_cast<double>(config_->acme_challenges->http_answered()));
    w.sample({{"type", "tls-alpn-01"}},
             static_cast<double>(config_->acme_challenges->tls_alpn_answered()));
  }
  if (!acme_) return;
  w.family("ballast_acme_certificates_issued_total", Type::kCounter,
           "Certificates ACME issued to this process.");
  w.sample({}, static_cast<double>(acme_->issued_total()));
  w.family("ballast_acme_failures_total", Type::kCounter, "ACME attempts that failed.");
  w.sample({}, static_cast<double>(acme_->failed_total()));
  auto jobs = acme_->status();
  w.family("ballast_acme_certificate_expiry_timestamp_seconds", Type::kGauge,
           "When each ACME listener's certificate expires, Unix seconds (0: none yet).");
  for (const auto& j : jobs) {
    w.sample({{"listener", j.listener}}, static_cast<double>(j.not_after_unix));
  }
  w.family("ballast_acme_consecutive_failures", Type::kGauge,
           "Failed attempts in a row for each ACME listener (0: the last one worked).");
  for (const auto& j : jobs) w.sample({{"listener", j.listener}}, j.failures);
}

}  // namespace ballast::control
