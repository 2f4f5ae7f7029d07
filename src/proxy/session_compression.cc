// Response compression for a rule with `compression`: which coding the client accepts (from
// the request), whether the response qualifies, and the body through the encoder.
#include "core/log.h"
#include "http/headers.h"
#include "proxy/session.h"

namespace ballast::proxy {

namespace {
// "text/html; charset=utf-8" against "text/html" or "text/*".
bool type_listed(std::string_view content_type, const std::vector<std::string>& types) {
  std::string_view media = http::trim_ows(content_type.substr(0, content_type.find(';')));
  size_t slash = media.find('/');
  if (slash == std::string_view::npos) return false;
  for (const std::string& t : types) {
    if (t.size() == slash + 2 && t.ends_with("/*")) {
      if (http::iequals(media.substr(0, slash), std::string_view(t).substr(0, slash))) return true;
    } else if (http::iequals(media, t)) {
      return true;
    }
  }
  return false;
}
}  // namespace

void Session::note_accepted_coding(const config::RuleConfig& rule, const http::MessageHead& head) {
  const config::CompressionConfig& c = rule.compression;
  // HTTP/1.0 clients get bodies until close, and a HEAD no body to code (as nginx's gzip).
  if (!c.enabled || head.is_head_request || (!exchange_.request.http11 && port_ == nullptr)) return;
  exchange_.coding = compress::choose_coding(head.find("accept-encoding"), c.codings);
}

Session::CompressionDecision Session::start_compression(const http::MessageHead& response) {
  if (exchange_.rule < 0) return CompressionDecision::kNone;
  const config::CompressionConfig& c =
      listener_->rules[static_cast<size_t>(exchange_.rule)].compression;
  if (!c.enabled) return CompressionDecision::kNone;
  // 206 is a range of the target's bytes, 204 and 304 have no body.
  bool codable_status = response.status >= 200 && response.status < 300 && response.status != 204 &&
                        response.status != 206;
  if (!codable_status || !response.find("content-encoding").empty())
    return CompressionDecision::kNone;
  if (!type_listed(response.find("content-type"), c.types)) return CompressionDecision::kNone;
  if (response.has_content_length && response.content_length < c.min_size)
    return CompressionDecision::kNone;
  if (http::list_contains_token(response.find("cache-control"), "no-transform"))
    return CompressionDecision::kNone;
  // Codable: a client that accepts another coding would get other bytes, so caches must
  // key on Accept-Encoding whether or not this one is coded.
  if (!exchange_.coding) return CompressionDecision::kVaryOnly;
  exchange_.encoder = compress::make_encoder(*exchange_.coding);
  return exchange_.encoder ? CompressionDecision::kCoded : CompressionDecision::kVaryOnly;
}

bool Session::compress_body(const char* data, size_t n, bool last) {
  compressed_.clear();
  bool ok = last ? exchange_.encoder->finish(compressed_)
                 : exchange_.encoder->write(std::string_view(data, n), compressed_);
  if (!ok) {
    LOG_WARN("%s %s: %s compression failed; the response is cut", peer_ip_.c_str(),
             listener_->name.c_str(),
             std::string(compress::coding_name(*exchange_.coding)).c_str());
    return false;
  }
  return true;
}

}  // namespace ballast::proxy
