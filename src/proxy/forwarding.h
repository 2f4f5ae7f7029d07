#pragma once
#include <string_view>

#include "config/config.h"
#include "core/buffer.h"
#include "http/message_head.h"

namespace ballast::proxy {

// Facts about the client connection that the forwarded request carries.
struct ClientFacts {
  std::string_view client_ip;      // appended to X-Forwarded-For
  std::string_view proto;          // "http" or "https" (set as X-Forwarded-Proto)
  std::string_view fallback_host;  // Host to send when an HTTP/1.0 client sent none
  std::string_view request_id;     // used when the request has no X-Request-Id
  // Mutual TLS: the header that carries the verified client certificate's subject (a
  // client's own header of that name is removed), and the subject (empty: none).
  std::string_view client_subject_header;
  std::string_view client_subject;
  // The protocol the client asks to switch to, passed on ("websocket"), or empty.
  std::string_view upgrade;
  // What the response cache does to the client's conditional fields (If-None-Match,
  // If-Modified-Since): passes them (kPass); drops them, so that a miss fetches the whole
  // response to store (kDrop); or, revalidating a stored response, replaces them and any
  // Range with `validators`, the stored response's own (kRevalidate).
  enum class Conditionals { kPass, kDrop, kRevalidate };
  Conditionals conditionals = Conditionals::kPass;
  std::string_view validators;  // complete lines ("If-None-Match: \"x\"\r\n")
};

// Writes the request head sent to a target: the client's request line and end-to-end
// headers; hop-by-hop headers removed; X-Forwarded-For appended; X-Forwarded-Proto and
// X-Forwarded-Host set; X-Request-Id added when absent; framing re-stated (the body is
// re-framed by the proxy, so Content-Length / Transfer-Encoding come from the parse).
// Always HTTP/1.1 with keep-alive towards the target.
void write_upstream_request_head(const http::MessageHead& request, const ClientFacts& facts,
                                 core::Buffer& out);

// How the response body reaches the client.
enum class ClientFraming {
  kNone,           // no body (HEAD, 204, 304, 1xx)
  kContentLength,  // same length as the target's
  kChunked,        // re-chunked (chunked from target, or until-close to an HTTP/1.1 client)
  kUntilClose,     // HTTP/1.0 client: body runs until the connection closes
};

ClientFraming choose_client_framing(const http::MessageHead& response, bool no_body,
                                    bool client_http11);

// Writes the response head sent to the client, without hop-by-hop headers, with the
// framing chosen above and a Connection header that states whether the client
// connection stays open.
// `extra_lines`: complete header lines the proxy adds ("Set-Cookie: ...\r\n"), or empty.
// `hsts_line`: the listener's Strict-Transport-Security line, which replaces the target's
// (empty: the target's, if any, passes).
// `policy`: the rule's response_headers (fields set, added, defaulted or removed), or null.
// `content_coding`: the coding ballast applies to the body ("br"), or empty: then
// Content-Encoding and Vary: Accept-Encoding are stated and a strong ETag becomes weak (the
// bytes differ from the target's).
void write_client_response_head(const http::MessageHead& response, ClientFraming framing,
                                bool client_http11, bool keep_alive, core::Buffer& out,
                                std::string_view extra_lines = {}, std::string_view hsts_line = {},
                                const config::ResponseHeadersConfig* policy = nullptr,
                                std::string_view content_coding = {});

// The end-to-end fields of a response the cache stores ("Name: value\r\n"): as
// write_client_response_head writes them for `content_coding`, without Age, and with
// "Vary: Accept-Encoding" when `vary_accept_encoding` (the response could be coded, only not
// for this client).
void write_storable_fields(const http::MessageHead& response, std::string_view content_coding,
                           bool vary_accept_encoding, core::Buffer& out);

// The head of a response served from the cache: `status` (the stored one, 206 for a part,
// 304 with only the fields RFC 9110 15.4.5 names), the stored fields, `extra_lines` (Age,
// X-Cache, Content-Range), Content-Length `content_length` (none on a 304), the listener's
// HSTS and the rule's policy as for any response, and Connection as the client needs.
void write_stored_response_head(const http::MessageHead& stored, int status,
                                uint64_t content_length, bool client_http11, bool keep_alive,
                                core::Buffer& out, std::string_view extra_lines,
                                std::string_view hsts_line,
                                const config::ResponseHeadersConfig* policy);

// True when `name` is hop-by-hop for this message: the fixed list plus every header
// named by any Connection header of the message.
bool is_hop_by_hop_in(const http::MessageHead& head, std::string_view name);

}  // namespace ballast::proxy
