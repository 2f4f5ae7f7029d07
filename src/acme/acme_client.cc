#include "acme/acme_client.h"

#include <poll.h>

#include <algorithm>

#include "acme/certificates.h"
#include "acme/jose.h"
#include "core/clock.h"
#include "core/log.h"

namespace ballast::acme {

namespace {

using nlohmann::json;

constexpr int kNonceRetries = 5;
constexpr int64_t kPollBudgetMs = 120000;
constexpr const char* kJose = "application/jose+json";

json parse_json(const HttpsResponse& r, const std::string& step) {
  json doc = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    throw Error(step + ": the CA's answer is not a JSON object");
  }
  return doc;
}

std::string string_field(const json& doc, const char* name, const std::string& step) {
  auto it = doc.find(name);
  if (it == doc.end() || !it->is_string()) {
    throw Error(step + ": the CA's answer has no \"" + name + "\"");
  }
  return it->get<std::string>();
}

bool is_problem(const HttpsResponse& r, const char* type) {
  json doc = json::parse(r.body, nullptr, false);
  return doc.is_object() && doc.value("type", "") == type;
}

// Retry-After in seconds (the only form ACME servers send), or -1.
int64_t retry_after_ms(const HttpsResponse& r) {
  std::string v = r.header("Retry-After");
  if (v.empty() || v.size() > 6 || !std::all_of(v.begin(), v.end(), ::isdigit)) return -1;
  return std::stoll(v) * 1000;
}

}  // namespace

std::string describe_problem(const HttpsResponse& r) {
  json doc = json::parse(r.body, nullptr, false);
  if (doc.is_object() && doc.contains("type")) {
    std::string text = doc.value("type", "") + ": " + doc.value("detail", "");
    // A compound problem names each identifier's own (RFC 8555 6.7.1).
    if (doc.contains("subproblems") && doc["subproblems"].is_array()) {
      for (const auto& sub : doc["subproblems"]) {
        if (sub.is_object()) text += "; " + sub.value("type", "") + ": " + sub.value("detail", "");
      }
    }
    return text;
  }
  std::string body = r.body.substr(0, 200);
  return "status " + std::to_string(r.status) + (body.empty() ? "" : ": " + body);
}

Client::Client(HttpsClient& https, EVP_PKEY* account_key, tls::ChallengeBoard& board, int stop_fd)
    : https_(https),
      account_key_(account_key),
      board_(board),
      stop_fd_(stop_fd),
      jwk_(jwk_json(account_key)),
      thumbprint_(jwk_thumbprint(account_key)) {}

Issued Client::obtain(const Settings& settings, const std::vector<ChallengeType>& challenges) {
  fetch_directory(settings.directory);
  ensure_account(settings.email);

  json identifiers = json::array();
  for (const auto& name : settings.names) identifiers.push_back({{"type", "dns"}, {"value", name}});
  HttpsResponse created = signed_post(string_field(directory_, "newOrder", "directory"),
                                      json{{"identifiers", identifiers}}.dump(), "newOrder");
  if (created.status != 201) throw Error("newOrder: " + describe_problem(created));
  std::string order_url = created.header("Location");
  if (order_url.empty()) throw Error("newOrder: the CA named no order URL (Location)");
  json order = parse_json(created, "newOrder");
  if (!order.contains("authorizations") || !order["authorizations"].is_array()) {
    throw Error("newOrder: the order lists no authorizations");
  }
  for (const auto& authz : order["authorizations"]) {
    if (!authz.is_string()) throw Error("newOrder: an authorization URL is not a string");
    authorize(authz.get<std::string>(), challenges);
  }
  order = poll(order_url, {"pending"}, "order");
  if (order.value("status", "") != "ready") {
    throw Error("order: status \"" + order.value("status", "") +
                "\" after authorizations, not ready");
  }

  tls::PkeyPtr key = generate_p256_key();
  std::string csr = base64url(make_csr_der(key.get(), settings.names));
  HttpsResponse finalized =
      signed_post(string_field(order, "finalize", "order"), json{{"csr", csr}}.dump(), "finalize");
  if (finalized.status != 200) throw Error("finalize: " + describe_problem(finalized));
  order = poll(order_url, {"ready", "processing"}, "order");
  if (order.value("status", "") != "valid") {
    throw Error("order: status \"" + order.value("status", "") + "\" after finalize, not valid");
  }
  HttpsResponse cert = signed_post(string_field(order, "certificate", "order"), "", "certificate");
  if (cert.status != 200) throw Error("certificate: " + describe_problem(cert));
  if (cert.body.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    throw Error("certificate: the CA's answer holds no PEM certificate");
  }
  return Issued{cert.body, private_key_pem(key.get())};
}

void Client::fetch_directory(const std::string& url) {
  HttpsResponse r = https_.get(url);
  if (r.status != 200) throw Error("directory " + url + ": " + describe_problem(r));
  directory_ = parse_json(r, "directory");
  for (const char* field : {"newNonce", "newAccount", "newOrder"})
    string_field(directory_, field, "directory");
  nonce_.clear();
}

void Client::take_nonce(const HttpsResponse& r) {
  std::string n = r.header("Replay-Nonce");
  if (!n.empty()) nonce_ = n;
}

void Client::ensure_account(const std::string& email) {
  if (!account_url_.empty()) return;
  json payload = {{"termsOfServiceAgreed", true}};
  if (!email.empty()) payload["contact"] = json::array({"mailto:" + email});
  HttpsResponse r = signed_post(string_field(directory_, "newAccount", "directory"), payload.dump(),
                                "newAccount", /*use_jwk=*/true);
  // 201: created; 200: this key's existing account (RFC 8555 7.3.1).
  if (r.status != 201 && r.status != 200) throw Error("newAccount: " + describe_problem(r));
  account_url_ = r.header("Location");
  if (account_url_.empty()) throw Error("newAccount: the CA named no account URL (Location)");
  if (r.status == 201) LOG_INFO("ACME: registered account %s", account_url_.c_str());
}

HttpsResponse Client::signed_post(const std::string& url, const std::string& payload,
                                  const std::string& step, bool use_jwk) {
  for (int attempt = 0;; ++attempt) {
    if (nonce_.empty()) {
      HttpsResponse n = https_.get(string_field(directory_, "newNonce", "directory"));
      take_nonce(n);
      if (nonce_.empty())
        throw Error(step + ": the CA gave no nonce (" + describe_problem(n) + ")");
    }
    json header = {{"alg", "ES256"}, {"nonce", nonce_}, {"url", url}};
    if (use_jwk) {
      header["jwk"] = json::parse(jwk_);
    } else {
      header["kid"] = account_url_;
    }
    nonce_.clear();  // each nonce is good once
    HttpsResponse r = https_.post(url, kJose, sign_jws(account_key_, header.dump(), payload));
    take_nonce(r);
    if (r.status == 400 && is_problem(r, "urn:ietf:params:acme:error:badNonce") &&
        attempt < kNonceRetries) {
      continue;  // the answer carried a fresh nonce
    }
    return r;
  }
}

void Client::authorize(const std::string& authz_url, const std::vector<ChallengeType>& challenges) {
  HttpsResponse r = signed_post(authz_url, "", "authorization");
  if (r.status != 200) throw Error("authorization: " + describe_problem(r));
  json authz = parse_json(r, "authorization");
  std::string status = authz.value("status", "");
  if (status == "valid") return;  // proved recently; the CA reuses it
  if (status != "pending") throw Error("authorization: status \"" + status + "\"");
  std::string name = authz.contains("identifier") ? authz["identifier"].value("value", "") : "";
  if (authz.value("wildcard", false)) {
    throw Error("authorization for " + name +
                ": a wildcard needs DNS-01, which ballast does not do");
  }
  json offered = authz.value("challenges", json::array());
  const json* chosen = nullptr;
  ChallengeType type = ChallengeType::kHttp01;
  for (ChallengeType wanted : challenges) {
    for (const auto& c : offered) {
      if (chosen == nullptr && c.is_object() && c.value("type", "") == challenge_name(wanted)) {
        chosen = &c;
        type = wanted;
      }
    }
  }
  if (chosen == nullptr) {
    throw Error("authorization for " + name +
                ": the CA offers none of the challenges ballast can answer");
  }
  std::string token = string_field(*chosen, "token", "challenge");
  std::string key_authorization = token + "." + thumbprint_;
  if (type == ChallengeType::kHttp01) {
    board_.publish_http(token, key_authorization);
  } else {
    tls::PkeyPtr key = generate_p256_key();
    tls::X509Ptr cert = make_tls_alpn_certificate(key.get(), name, key_authorization);
    board_.publish_tls_alpn(name, std::move(cert), std::move(key));
  }
  // Withdrawn however this ends: the CA has decided, or the attempt failed.
  struct Withdraw {
    tls::ChallengeBoard& board;
    ChallengeType type;
    std::string key;
    ~Withdraw() {
      if (type == ChallengeType::kHttp01) {
        board.withdraw_http(key);
      } else {
        board.withdraw_tls_alpn(key);
      }
    }
  } withdraw{board_, type, type == ChallengeType::kHttp01 ? token : name};
  LOG_INFO("ACME: proving %s with %s", name.c_str(), challenge_name(type));
  HttpsResponse ready = signed_post(string_field(*chosen, "url", "challenge"), "{}", "challenge");
  if (ready.status != 200) throw Error("challenge for " + name + ": " + describe_problem(ready));
  authz = poll(authz_url, {"pending"}, "authorization for " + name);
  if (authz.value("status", "") != "valid") {
    std::string why;
    for (const auto& c : authz.value("challenges", json::array())) {
      if (c.is_object() && c.contains("error") && c["error"].is_object()) {
        why = c["error"].value("type", "") + ": " + c["error"].value("detail", "");
      }
    }
    throw Error("authorization for " + name + " (" + challenge_name(type) + "): status \"" +
                authz.value("status", "") + "\"" + (why.empty() ? "" : " (" + why + ")"));
  }
}

json Client::poll(const std::string& url, const std::vector<std::string>& waiting,
                  const std::string& step) {
  const int64_t deadline = core::monotonic_ms() + kPollBudgetMs;
  int64_t pause_ms = 250;
  while (true) {
    HttpsResponse r = signed_post(url, "", step);
    if (r.status != 200) throw Error(step + ": " + describe_problem(r));
    json doc = parse_json(r, step);
    std::string status = doc.value("status", "");
    if (std::find(waiting.begin(), waiting.end(), status) == waiting.end()) return doc;
    int64_t wait = retry_after_ms(r);
    wait = std::clamp<int64_t>(wait >= 0 ? wait : pause_ms, 100, 10000);
    if (core::monotonic_ms() + wait > deadline) {
      throw Error(step + ": still \"" + status + "\" after " +
                  std::to_string(kPollBudgetMs / 1000) + "s");
    }
    pause(wait);
    pause_ms = std::min<int64_t>(pause_ms * 2, 2000);
  }
}

void Client::pause(int64_t ms) {
  pollfd fd{stop_fd_, POLLIN, 0};
  if (::poll(&fd, stop_fd_ >= 0 ? 1 : 0, static_cast<int>(ms)) > 0) throw Error("stopping");
}

const char* challenge_name(ChallengeType type) {
  switch (type) {
    case ChallengeType::kHttp01:
      return "http-01";
    case ChallengeType::kTlsAlpn01:
      return "tls-alpn-01";
  }
  return "?";
}

}  // namespace ballast::acme
