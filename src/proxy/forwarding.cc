#include "proxy/forwarding.h"

#include "http/headers.h"
#include "http/status.h"

namespace ballast::proxy {

using http::iequals;

bool is_hop_by_hop_in(const http::MessageHead& head, std::string_view name) {
  if (http::is_hop_by_hop(name, {})) return true;
  // No Connection header at all (the parser keeps the first): nothing more to look for.
  if (head.connection.empty()) return false;
  for (const auto& h : head.headers) {
    if (iequals(h.name, "connection") && http::list_contains_token(h.value, name)) return true;
  }
  return false;
}

namespace {
void header_line(core::Buffer& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

// Framing headers are re-stated by the proxy, never copied.
bool is_framing(std::string_view name) {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding");
}

// The client's conditional fields the cache takes over (see ClientFacts::Conditionals).
bool dropped_by_cache(ClientFacts::Conditionals c, std::string_view name) {
  if (c == ClientFacts::Conditionals::kPass) return false;
  if (iequals(name, "if-none-match") || iequals(name, "if-modified-since")) return true;
  return c == ClientFacts::Conditionals::kRevalidate &&
         (iequals(name, "range") || iequals(name, "if-range"));
}
}  // namespace

void write_upstream_request_head(const http::MessageHead& request, const ClientFacts& facts,
                                 core::Buffer& out) {
  out.append(request.method);
  out.append_char(' ');
  out.append(request.target);
  out.append(" HTTP/1.1\r\n");

  bool has_request_id = false;
  bool wrote_forwarded_for = false;
  for (const auto& h : request.headers) {
    if (is_framing(h.name) || is_hop_by_hop_in(request, h.name)) continue;
    if (dropped_by_cache(facts.conditionals, h.name)) continue;
    if (iequals(h.name, "x-forwarded-proto") || iequals(h.name, "x-forwarded-host")) continue;
    if (!facts.client_subject_header.empty() && iequals(h.name, facts.client_subject_header))
      continue;
    if (iequals(h.name, "x-forwarded-for")) {
      // Several X-Forwarded-For lines are one list: join them, then append the client.
      if (wrote_forwarded_for) continue;
      wrote_forwarded_for = true;
      out.append("X-Forwarded-For: ");
      bool first = true;
      for (const auto& x : request.headers) {
        if (!iequals(x.name, "x-forwarded-for") || x.value.empty()) continue;
        if (!first) out.append(", ");
        out.append(x.value);
        first = false;
      }
      if (!first) out.append(", ");
      out.append(facts.client_ip);
      out.append("\r\n");
      continue;
    }
    if (iequals(h.name, "x-request-id") && !h.value.empty()) has_request_id = true;
    header_line(out, h.name, h.value);
  }
  if (request.host.empty() && !facts.fallback_host.empty())
    header_line(out, "Host", facts.fallback_host);
  if (!wrote_forwarded_for) header_line(out, "X-Forwarded-For", facts.client_ip);
  header_line(out, "X-Forwarded-Proto", facts.proto);
  if (!request.host.empty()) header_line(out, "X-Forwarded-Host", request.host);
  if (!has_request_id && !facts.request_id.empty())
    header_line(out, "X-Request-Id", facts.request_id);
  if (!facts.client_subject_header.empty() && !facts.client_subject.empty())
    header_line(out, facts.client_subject_header, facts.client_subject);
  out.append(facts.validators);
  if (!facts.upgrade.empty()) {
    // Hop-by-hop, so removed above with the rest; restated for this hop.
    out.append("Connection: upgrade\r\n");
    header_line(out, "Upgrade", facts.upgrade);
  }
  if (request.chunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  } else if (request.has_content_length) {
    out.append("Content-Length: ");
    out.append_decimal(request.content_length);
    out.append("\r\n");
  }
  out.append("\r\n");
}

ClientFraming choose_client_framing(const http::MessageHead& response, bool no_body,
                                    bool client_http11) {
  if (no_body) return ClientFraming::kNone;
  if (response.has_content_length) return ClientFraming::kContentLength;
  return client_http11 ? ClientFraming::kChunked : ClientFraming::kUntilClose;
}

namespace {
// The policy replaces (set) or drops (remove) the target's field of this name.
bool policy_drops(const config::ResponseHeadersConfig& policy, std::string_view name) {
  for (const auto& f : policy.fields) {
    if (f.mode == config::ResponseHeadersConfig::Field::Mode::kSet && iequals(f.name, name))
      return true;
  }
  for (const auto& removed : policy.remove) {
    if (iequals(removed, name)) return true;
  }
  return false;
}

void append_policy_fields(const config::ResponseHeadersConfig& policy,
                          const http::MessageHead& response, core::Buffer& out) {
  for (const auto& f : policy.fields) {
    if (f.mode == config::ResponseHeadersConfig::Field::Mode::kDefault &&
        !response.find(f.name).empty())
      continue;  // the target's own value wins over the preset's
    header_line(out, f.name, f.value);
  }
}
}  // namespace

namespace {
// The response's fields as they go to the client: hop-by-hop ones and framing dropped
// (Content-Length kept on a bodiless answer: it describes the resource), HSTS and the
// policy's fields replaced, a strong ETag made weak when ballast codes the body. `keep`,
// when given, lets only the fields it accepts through.
void append_response_fields(const http::MessageHead& response, bool keep_content_length,
                            std::string_view hsts_line, const config::ResponseHeadersConfig* policy,
                            std::string_view content_coding, core::Buffer& out,
                            bool (*keep)(std::string_view) = nullptr) {
  for (const auto& h : response.headers) {
    if (keep != nullptr && !keep(h.name)) continue;
    if (is_hop_by_hop_in(response, h.name)) continue;
    if (iequals(h.name, "content-length") && keep_content_length) {
      header_line(out, h.name, h.value);
      continue;
    }
    if (is_framing(h.name)) continue;
    if (!hsts_line.empty() && iequals(h.name, "strict-transport-security")) continue;
    if (policy != nullptr && policy_drops(*policy, h.name)) continue;
    if (!content_coding.empty() && iequals(h.name, "etag") && !h.value.starts_with("W/")) {
      out.append(h.name);
      out.append(": W/");
      out.append(h.value);
      out.append("\r\n");
      continue;
    }
    header_line(out, h.name, h.value);
  }
  if (!content_coding.empty()) {
    out.append("Content-Encoding: ");
    out.append(content_coding);
    out.append("\r\nVary: Accept-Encoding\r\n");
  }
}

void append_connection(bool client_http11, bool keep_alive, core::Buffer& out) {
  if (!keep_alive && client_http11) out.append("Connection: close\r\n");
  if (keep_alive && !client_http11) out.append("Connection: keep-alive\r\n");
}

void append_status_line(int status, std::string_view reason, core::Buffer& out) {
  out.append("HTTP/1.1 ");
  out.append_decimal(static_cast<uint64_t>(status));
  out.append_char(' ');
  out.append(reason.empty() ? http::reason_phrase(status) : reason);
  out.append("\r\n");
}

// The fields a 304 carries (RFC 9110 15.4.5), and Last-Modified for caches behind us.
bool sent_with_304(std::string_view name) {
  for (std::string_view n :
       {"cache-control", "content-location", "date", "etag", "expires", "vary", "last-modified"}) {
    if (iequals(name, n)) return true;
  }
  return false;
}
}  // namespace

void write_client_response_head(const http::MessageHead& response, ClientFraming framing,
                                bool client_http11, bool keep_alive, core::Buffer& out,
                                std::string_view extra_lines, std::string_view hsts_line,
                                const config::ResponseHeadersConfig* policy,
                                std::string_view content_coding) {
  append_status_line(response.status, response.reason, out);
  append_response_fields(response, framing == ClientFraming::kNone, hsts_line, policy,
                         content_coding, out);
  out.append(extra_lines);
  out.append(hsts_line);
  if (policy != nullptr) append_policy_fields(*policy, response, out);
  if (framing == ClientFraming::kContentLength) {
    out.append("Content-Length: ");
    out.append_decimal(response.content_length);
    out.append("\r\n");
  } else if (framing == ClientFraming::kChunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  }
  if (response.status >= 200) append_connection(client_http11, keep_alive, out);
  out.append("\r\n");
}

void write_storable_fields(const http::MessageHead& response, std::string_view content_coding,
                           bool vary_accept_encoding, core::Buffer& out) {
  append_response_fields(response, /*keep_content_length=*/false, {}, nullptr, content_coding, out,
                         [](std::string_view name) { return !iequals(name, "age"); });
  if (content_coding.empty() && vary_accept_encoding) out.append("Vary: Accept-Encoding\r\n");
}

void write_stored_response_head(const http::MessageHead& stored, int status,
                                uint64_t content_length, bool client_http11, bool keep_alive,
                                core::Buffer& out, std::string_view extra_lines,
                                std::string_view hsts_line,
                                const config::ResponseHeadersConfig* policy) {
  append_status_line(status, status == stored.status ? stored.reason : std::string_view(), out);
  append_response_fields(stored, false, hsts_line, policy, {}, out,
                         status == 304 ? &sent_with_304 : nullptr);
  out.append(extra_lines);
  out.append(hsts_line);
  if (policy != nullptr) append_policy_fields(*policy, stored, out);
  if (status != 304) {
    out.append("Content-Length: ");
    out.append_decimal(content_length);
    out.append("\r\n");
  }
  append_connection(client_http11, keep_alive, out);
  out.append("\r\n");
}

}  // namespace ballast::proxy
