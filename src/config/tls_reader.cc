#include "config/tls_reader.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "acme/certificate_store.h"
#include "acme/certificates.h"
#include "acme/https_client.h"
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

// A DNS name an ACME CA can issue for by HTTP-01 or TLS-ALPN-01: letters, digits,
// hyphens and dots, at least two labels, no wildcard. Empty when good, else the reason.
std::string acme_name_problem(const std::string& name) {
  if (name.rfind("*.", 0) == 0) {
    return "a wildcard name needs the DNS-01 challenge, which ballast does not answer";
  }
  if (name.empty() || name.size() > 253 || name.find('.') == std::string::npos ||
      name.front() == '.' || name.back() == '.' || name.find("..") != std::string::npos) {
    return "not a fully qualified DNS name";
  }
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.')) {
      return "a DNS name has lower-case letters, digits, '-' and '.' only";
    }
  }
  return {};
}

void read_acme_challenges(MapReader& r, acme::Settings& a, ErrorList& errors) {
  YAML::Node list = r.node("challenges");
  if (!list.IsDefined() || list.IsNull()) return;
  a.challenges.clear();
  for_each_item(r, "challenges", errors, [&](const YAML::Node& item, const std::string& p) {
    std::string v = item.IsScalar() ? item.Scalar() : "";
    if (v == "http-01") {
      a.challenges.push_back(acme::ChallengeType::kHttp01);
    } else if (v == "tls-alpn-01") {
      a.challenges.push_back(acme::ChallengeType::kTlsAlpn01);
    } else {
      errors.add(location_of(item), p,
                 "unknown challenge \"" + v + "\"; expected http-01 or tls-alpn-01");
    }
  });
  if (a.challenges.empty()) {
    errors.add(location_of(list), r.child_path("challenges"),
               "names no challenge; leave it out for both");
  }
}

void read_acme(MapReader& parent, TlsConfig& t, ErrorList& errors) {
  if (!parent.has("acme")) {
    parent.node("acme");
    return;
  }
  MapReader r(parent.node("acme"), parent.child_path("acme"), errors);
  acme::Settings a;
  t.acme_location = r.location();
  if (auto v = r.string("directory", true)) {
    a.directory = *v;
    try {
      acme::Url::parse(*v);
    } catch (const acme::Error& e) {
      errors.add(location_of(r.node("directory")), r.child_path("directory"), e.what());
    }
  }
  if (auto v = r.string("email")) a.email = *v;
  for_each_item(r, "names", errors, [&](const YAML::Node& item, const std::string& p) {
    std::string name = item.IsScalar() ? item.Scalar() : "";
    std::string problem = acme_name_problem(name);
    if (!problem.empty()) {
      errors.add(location_of(item), p, "\"" + name + "\": " + problem);
    } else {
      a.names.push_back(name);
    }
  });
  if (r.is_map() && a.names.empty() && !r.has("names")) {
    errors.add(r.location(), r.child_path("names"),
               "ACME needs the names to certify: names: [example.com]");
  }
  if (auto v = r.string("storage")) a.storage = *v;
  if (auto v = r.string("ca")) a.ca = *v;
  read_acme_challenges(r, a, errors);
  if (auto v = r.duration_ms("renew_before", 60000, int64_t{365} * 86400 * 1000)) {
    a.renew_before_s = *v / 1000;
  }
  r.finish();
  t.acme = std::move(a);
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

// An ACME listener's certificate: the one ballast stored, while it covers the names, or a
// stand-in until the CA issues one. It is the default unless a listed one says default.
void add_acme_certificate(ListenerConfig& l, const std::string& base_dir,
                          const std::shared_ptr<tls::ChallengeBoard>& board,
                          tls::ServerSettings& settings) {
  acme::Settings& a = *l.tls.acme;
  a.storage = resolve(base_dir, a.storage);
  a.ca = resolve(base_dir, a.ca);
  // None yet, or one that cannot serve (the ACME manager says why, and orders another).
  std::shared_ptr<const tls::Certificate> cert = acme::load_stored_certificate(a);
  if (!cert) {
    LOG_WARN(
        "listener \"%s\": no certificate from %s for %s yet; a self-signed stand-in serves "
        "until ACME has one",
        l.name.c_str(), a.directory.c_str(), a.names.front().c_str());
    cert = acme::make_stand_in_certificate(a.names);
  }
  bool listed_default = false;
  for (const auto& c : l.tls.certificates) listed_default = listed_default || c.is_default;
  if (!listed_default) settings.default_certificate = settings.certificates.size();
  settings.certificates.push_back(std::move(cert));
  settings.acme_challenges = board;
}

void build_one(ListenerConfig& l, const std::string& listener_path, const std::string& base_dir,
               const std::shared_ptr<tls::TicketKeys>& ticket_keys,
               const std::shared_ptr<tls::ChallengeBoard>& config_board, ErrorList& errors) {
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
  if (l.tls.acme) add_acme_certificate(l, base_dir, config_board, settings);
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
    if (g.protocol_version == TargetGroupConfig::ProtocolVersion::kHttp2) {
      settings.alpn = {"h2"};
      g.tls.h2_context = tls::ClientContext::build(settings);
    }
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
  read_acme(r, t, errors);
  if (r.is_map() && t.certificates.empty() && !r.has("acme")) {
    errors.add(r.location(), r.child_path("certificates"),
               "a TLS listener needs a certificate: add \"certificates: [ { cert: site.pem, key: "
               "site.key } ]\", or \"acme: { directory: ..., names: [...] }\"");
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
    if (!l.tls.enabled || (l.tls.certificates.empty() && !l.tls.acme)) continue;
    if (l.tls.acme && l.tls.acme->names.empty()) continue;  // reported when read
    build_one(l, indexed("listeners", i), base_dir, ticket_keys, config.acme_challenges, errors);
  }
  for (size_t i = 0; i < config.target_groups.size(); ++i) {
    TargetGroupConfig& g = config.target_groups[i];
    if (g.tls.enabled) build_client(g, indexed("target_groups", i), base_dir, errors);
  }
}

}  // namespace ballast::config
