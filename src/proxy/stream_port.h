#pragma once
#include <cstddef>

#include "core/io_result.h"

namespace ballast::proxy {

// The client side of a Session that serves one HTTP/2 stream instead of a connection.
// The request reaches the Session, and its response leaves it, in HTTP/1.1 form, so that
// routing, stickiness, retries, circuit breakers, limits, metrics and access logs are the
// ones HTTP/1.1 clients get, with no second copy (haproxy 1.8 served HTTP/2 the same way).
// The H2Connection converts at the edge: fields to a head and DATA to a body on the way
// in, a parsed response to HEADERS and DATA frames on the way out.
class StreamPort {
 public:
  virtual ~StreamPort() = default;
  // Request bytes: kOk, or kWantRead until the stream brings more (it never ends: the
  // request says Connection: close, so the Session ends after its one exchange).
  virtual core::IoResult read_request(char* buf, size_t len) = 0;
  // Response bytes: each head whole, then the body as it is, never chunked (a body without
  // Content-Length runs until the Session closes). kOk (some or all taken), kWantWrite while
  // the client's window holds the response back, kFailed once the client reset the stream.
  virtual core::IoResult write_response(const char* buf, size_t len) = 0;
  // The Session is done; it is freed after the current event. `response_complete`: it
  // closed as it does after a whole response (else the response was cut).
  virtual void session_closed(bool response_complete) = 0;
};

}  // namespace ballast::proxy
