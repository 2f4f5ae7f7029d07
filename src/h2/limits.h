#pragma once
#include <cstdint>

namespace ballast::h2 {

// What an HTTP/2 connection allows its client (configuration `listeners[].http2`). Each
// bounds memory or CPU that a client could otherwise claim for nothing.
struct Limits {
  // SETTINGS_MAX_CONCURRENT_STREAMS: requests in progress at once on one connection.
  uint32_t max_concurrent_streams = 100;
  // SETTINGS_INITIAL_WINDOW_SIZE: request body bytes a stream may send ahead of the
  // target (the RFC's default; haproxy's too).
  uint32_t initial_window_size = 65535;
  // The same for the whole connection, over all its streams.
  uint32_t connection_window_size = 1024 * 1024;
  // SETTINGS_MAX_HEADER_LIST_SIZE, counted as the RFC does (name + value + 32 per field)
  // on the decoded fields, so a small HPACK block that expands (an "HPACK bomb") is caught.
  uint32_t max_header_list_size = 65536;
  // Frames that do no work for the client: empty DATA frames, PINGs, SETTINGS after the
  // first, PRIORITY frames, streams reset before their answer, invalid frames (haproxy's
  // "glitches"). More than this many within one 10-second window, and the connection
  // ends with GOAWAY (ENHANCE_YOUR_CALM).
  uint32_t max_glitches = 1000;
};

}  // namespace ballast::h2
