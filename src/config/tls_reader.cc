#include "config/tls_reader.h"

#include <filesystem>

#include "config/yaml_reader.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/time_format.h"
#include "tls/certificate.h"

namespace ballast::config {

namespace {

constexpr int64_t kTwoYearsMs = int64_t{2} * 366 * 86400 * 1000;

TlsCertificateConfig read_certificate(const YAML::Node& node, const std::string& path,
                                      ErrorList& errors) {
  TlsCertificateConfig c;
  MapReader r(node, path, errors);
  c.location = r.location();
  if (auto v = r.string("cert", true)) c.cert = *v;
  if (auto v = r.string("key", true)) c.key = *v;
  if (auto v = r.string("ocsp")) c.ocsp = *v;
  if (auto v = r.boolean("default")) c.is_default = *v;
  r.finish();
  return c;
}

void read_client_certificates(MapReader& parent, TlsConfig& t, ErrorList& errors) {
  if (!parent.has("client_certificates")) {
    parent.node("client_certificates");
    return;
  }
  MapReader r(parent.node("client_certificates"), parent.child_path("client_certificates"), errors);
  if (auto v = r.string("ca", true)) t.client_ca = *v;
  if (auto v = r.boolean("required")) t.client_certificate_required = *v;
  if (auto v = r.string("subject_header")) t.client_subject_header = *v;
  r.finish();
}

void read_hsts(MapReader& parent, TlsConfig& t, ErrorList& errors) {
  if (!parent.has("hsts")) {
    parent.node("hsts");
    return;
  }
  MapReader r(parent.node("hsts"), parent.child_path("hsts"), errors);
  if (auto v = r.duration_ms("max_age", 0, kTwoYearsMs)) t.hsts.max_age_s = *v / 1000;
  if (auto v = r.boolean("include_subdomains")) t.hsts.include_subdomains = *v;
  if (auto v = r.boolean("preload")) t.hsts.preload = *v;
  r.finish();
  if (t.hsts.preload && (t.hsts.max_age_s < 31536000 || !t.hsts.include_subdomains)) {
    // hstspreload.org refuses anything less, and browsers would ignore the preload flag.
    errors.add(r.location(), r.path(),
               "preload needs include_subdomains: true and max_age of at least 365d");
  }
  if (t.hsts.max_age_s > 0) {
    t.hsts_line = "Strict-Transport-Security: max-age=" + std::to_string(t.hsts.max_age_s);
    if (t.hsts.include_subdomains) t.hsts_line += "; includeSubDomains";
    if (t.hsts.preload) t.hsts_line += "; preload";
    t.hsts_line += "\r\n";
  }
}

std::string resolve(const std::string& base_dir, const std::string& file) {
  if (file.empty() || file.front() == '/' || base_dir.empty()) return file;
  return (std::filesystem::path(base_dir) / file).string();
}

void warn_about_dates(const tls::Certificate& c) {
  int64_t now = core::unix_seconds();
  if (c.not_after_unix < now) {
    LOG_WARN("certificate %s expired at %s: clients will refuse it", c.files.cert.c_str(),
             core::iso8601_utc(c.not_after_unix).c_str());
  } else if (c.not_before_unix > now) {
    LOG_WARN("certificate %s is not valid before %s: clients will refuse it until then",
             c.files.cert.c_str(), core::iso8601_utc(c.not_before_unix).c_str());
  }
}

void build_one(ListenerConfig& l, const std::string& listener_path, const std::string& base_dir,
               const std::shared_ptr<tls::TicketKeys>& ticket_keys, ErrorList& errors) {
  tls::ServerSettings settings;
  settings.policy = l.tls.policy;
  settings.ticket_keys = ticket_keys ? ticket_keys : std::make_shared<tls::TicketKeys>();
  settings.client_ca = resolve(base_dir, l.tls.client_ca);
  settings.client_certificate_required = l.tls.client_certificate_required;
  // HTTP/2 first: clients that offer both take it (SSL_select_next_proto goes by our order).
  if (l.http2.enabled) settings.alpn = {"h2", "http/1.1"};
  bool complete = true;
  for (size_t i = 0; i < l.tls.certificates.size(); ++i) {
    const TlsCertificateConfig& c = l.tls.certificates[i];
    try {
      auto cert = tls::load_certificate(tls::CertificateFiles{
          resolve(base_dir, c.cert), resolve(base_dir, c.key), resolve(base_dir, c.ocsp)});
      warn_about_dates(*cert);
      if (c.is_default) settings.default_certificate = settings.certificates.size();
      settings.certificates.push_back(std::move(cert));
    } catch (const tls::Error& e) {
      errors.add(c.location, indexed(listener_path + ".tls.certificates", i), e.what());
      complete = false;
    }
  }
  if (!complete) return;
  try {
    l.tls.context = tls::ServerContext::build(std::move(settings));
  } catch (const tls::Error& e) {
    errors.add(l.tls.location, listener_path + ".tls", e.what());
  }
}

void build_client(TargetGroupConfig& g, const std::string& group_path, const std::string& base_dir,
                  ErrorList& errors) {
  tls::ClientSettings settings;
  settings.ca_file = resolve(base_dir, g.tls.ca);
  settings.verify = g.tls.verify;
  settings.cert_file = resolve(base_dir, g.tls.cert);
  settings.key_file = resolve(base_dir, g.tls.key);
  try {
    g.tls.context = tls::ClientContext::build(settings);
    g.health_check.tls = g.tls.context;
    g.health_check.tls_server_name = g.tls.server_name;
  } catch (const tls::Error& e) {
    errors.add(g.tls.location, group_path + ".tls", e.what());
  }
}

}  // namespace

TargetTlsConfig read_target_tls(const YAML::Node& node, const std::string& path,
                                ErrorList& errors) {
  TargetTlsConfig t;
  t.enabled = true;
  MapReader r(node, path, errors);
  t.location = r.location();
  if (auto v = r.string("ca")) t.ca = *v;
  if (auto v = r.boolean("verify")) t.verify = *v;
  if (auto v = r.string("server_name")) t.server_name = *v;
  if (r.has("certificate")) {
    MapReader c(r.node("certificate"), r.child_path("certificate"), errors);
    if (auto v = c.string("cert", true)) t.cert = *v;
    if (auto v = c.string("key", true)) t.key = *v;
    c.finish();
  } else {
    r.node("certificate");
  }
  r.finish();
  return t;
}

TlsConfig read_tls(const YAML::Node& node, const std::string& path, ErrorList& errors) {
  TlsConfig t;
  t.enabled = true;
  MapReader r(node, path, errors);
  t.location = r.location();
  if (auto v = r.string("policy")) {
    if (*v == "intermediate") {
      t.policy = tls::Policy::kIntermediate;
    } else if (*v == "modern") {
      t.policy = tls::Policy::kModern;
    } else {
      errors.add(location_of(r.node("policy")), r.child_path("policy"),
                 "unknown policy \"" + *v + "\"; expected intermediate or modern");
    }
  }
  for_each_item(r, "certificates", errors, [&](const YAML::Node& item, const std::string& p) {
    t.certificates.push_back(read_certificate(item, p, errors));
  });
  if (r.is_map() && t.certificates.empty()) {
    errors.add(r.location(), r.child_path("certificates"),
               "a TLS listener needs a certificate: add \"certificates: [ { cert: site.pem, key: "
               "site.key } ]\"");
  }
  size_t defaults = 0;
  for (const auto& c : t.certificates) defaults += c.is_default ? 1 : 0;
  if (defaults > 1) {
    errors.add(r.location(), r.child_path("certificates"),
               "more than one certificate says default: true; keep one");
  }
  read_client_certificates(r, t, errors);
  read_hsts(r, t, errors);
  r.finish();
  return t;
}

void build_tls_contexts(Config& config, const std::string& base_dir,
                        const std::shared_ptr<tls::TicketKeys>& ticket_keys, ErrorList& errors) {
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    ListenerConfig& l = config.listeners[i];
    if (!l.tls.enabled || l.tls.certificates.empty()) continue;
    build_one(l, indexed("listeners", i), base_dir, ticket_keys, errors);
  }
  for (size_t i = 0; i < config.target_groups.size(); ++i) {
    TargetGroupConfig& g = config.target_groups[i];
    if (g.tls.enabled) build_client(g, indexed("target_groups", i), base_dir, errors);
  }
}

}  // namespace ballast::config
