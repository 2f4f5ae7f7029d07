#include "h2/server_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/clock.h"
#include "core/free_list.h"
#include "h2/nv.h"

namespace ballast::h2 {

namespace {
constexpr int64_t kGlitchWindowMs = 10000;
// CONTINUATION frames after a HEADERS frame (CVE-2024-27316 and its family): a real header
// block fits in a few; nghttp2 counts, and ends the connection past this.
constexpr size_t kMaxContinuations = 8;
// Streams the client may reset before their answer, as a token bucket (CVE-2023-44487,
// "rapid reset"): a burst, then so many a second. nghttp2 ends the connection past it.
constexpr uint64_t kResetBurst = 200;
constexpr uint64_t kResetsPerSecond = 33;
}  // namespace

// The nghttp2 callbacks, each a static function that finds its ServerSession.
struct ServerSession::Callbacks {
  static ServerSession& self(void* user) { return *static_cast<ServerSession*>(user); }

  static int on_begin_headers(nghttp2_session* s, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    ServerSession& me = self(user);
    std::unique_ptr<RequestHead> head;
    if (!me.spare_heads_.empty()) {
      head = std::move(me.spare_heads_.back());
      me.spare_heads_.pop_back();
    } else {
      head = std::make_unique<RequestHead>();
      head->fields.reserve(16);
    }
    if (nghttp2_session_set_stream_user_data(s, frame->hd.stream_id, head.get()) != 0) {
      me.recycle(std::move(head));
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    me.heads_.emplace_back(frame->hd.stream_id, std::move(head));
    return 0;
  }

  static int on_header(nghttp2_session* s, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    auto* head =
        static_cast<RequestHead*>(nghttp2_session_get_stream_user_data(s, frame->hd.stream_id));
    if (head == nullptr) return 0;  // trailers: not passed on
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    // RFC 9113 6.5.2: the size of a field is its name, its value and 32.
    head->decoded_bytes += static_cast<uint32_t>(namelen + valuelen + 32);
    if (head->decoded_bytes > self(user).limits_.max_header_list_size) {
      head->too_large = true;
      head->fields.clear();
      return 0;
    }
    if (head->too_large) return 0;
    if (n == ":method") {
      head->method = v;
    } else if (n == ":scheme") {
      head->scheme = v;
    } else if (n == ":authority") {
      head->authority = v;
    } else if (n == ":path") {
      head->path = v;
    } else if (n == ":protocol") {
      head->protocol = v;
    } else {
      if (n == "content-length") {
        head->has_content_length =
            std::from_chars(v.data(), v.data() + v.size(), head->content_length).ec == std::errc();
      }
      head->fields.emplace_back(n, v);
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session* s, const nghttp2_frame* frame, void* user) {
    ServerSession& me = self(user);
    bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    int32_t id = frame->hd.stream_id;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        auto* head = static_cast<RequestHead*>(nghttp2_session_get_stream_user_data(s, id));
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST && head != nullptr) {
          nghttp2_session_set_stream_user_data(s, id, nullptr);
          std::unique_ptr<RequestHead> owned = me.take_head(id);
          if (!owned) break;
          me.events_.on_request_head(id, *owned, end_stream);
          me.recycle(std::move(owned));
        } else if (end_stream) {
          me.events_.on_request_end(id);  // trailers end the request
        }
        break;
      }
      case NGHTTP2_DATA:
        if (end_stream) {
          me.events_.on_request_end(id);
        } else if (frame->hd.length == 0 && !me.glitch("an empty DATA frame")) {
          return NGHTTP2_ERR_CALLBACK_FAILURE;
        }
        break;
      case NGHTTP2_PING:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0 && !me.glitch("a PING"))
          return NGHTTP2_ERR_CALLBACK_FAILURE;
        break;
      case NGHTTP2_SETTINGS:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) != 0) break;
        if (me.seen_settings_ && !me.glitch("a SETTINGS frame after the first"))
          return NGHTTP2_ERR_CALLBACK_FAILURE;
        me.seen_settings_ = true;
        break;
      case NGHTTP2_PRIORITY:
        if (!me.glitch("a PRIORITY frame")) return NGHTTP2_ERR_CALLBACK_FAILURE;
        break;
      case NGHTTP2_RST_STREAM:
        ++me.resets_;
        if (!me.glitch("a stream reset before its answer")) return NGHTTP2_ERR_CALLBACK_FAILURE;
        break;
      default:
        break;
    }
    return 0;
  }

  static int on_invalid_frame(nghttp2_session*, const nghttp2_frame*, int, void* user) {
    return self(user).glitch("an invalid frame") ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
  }

  static int on_data_chunk(nghttp2_session*, uint8_t, int32_t stream, const uint8_t* data,
                           size_t len, void* user) {
    self(user).events_.on_request_data(stream, reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int on_stream_close(nghttp2_session* s, int32_t stream, uint32_t code, void* user) {
    ServerSession& me = self(user);
    // A stream reset while its head was still arriving had a half-built head.
    nghttp2_session_set_stream_user_data(s, stream, nullptr);
    if (std::unique_ptr<RequestHead> head = me.take_head(stream)) me.recycle(std::move(head));
    me.events_.on_stream_close(stream, code);
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, int32_t stream, uint8_t* buf, size_t len,
                           uint32_t* flags, nghttp2_data_source*, void* user) {
    bool end = false;
    size_t n =
        self(user).events_.read_response_body(stream, reinterpret_cast<char*>(buf), len, &end);
    if (end) *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (n == 0 && !end) return NGHTTP2_ERR_DEFERRED;
    return static_cast<ssize_t>(n);
  }

  // nghttp2 ends some connections itself (a reset rate above its limit): say why.
  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    ServerSession& me = self(user);
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR) {
      me.ended_for_error_ = true;
      if (!me.failure_.empty()) return 0;
      me.failure_ = std::string("GOAWAY ") + nghttp2_http2_strerror(frame->goaway.error_code);
      // The one limit nghttp2 enforces by itself with INTERNAL_ERROR.
      if (frame->goaway.error_code == NGHTTP2_INTERNAL_ERROR && me.resets_ > kResetBurst)
        me.failure_ += ": the client reset " + std::to_string(me.resets_) +
                       " streams, faster than " + std::to_string(kResetsPerSecond) +
                       " a second after a burst of " + std::to_string(kResetBurst) +
                       " (rapid reset, CVE-2023-44487)";
    }
    return 0;
  }

  static int on_error(nghttp2_session*, int, const char* msg, size_t len, void* user) {
    ServerSession& me = self(user);
    if (me.failure_.empty()) me.failure_.assign(msg, len);
    return 0;
  }
};

ServerSession::ServerSession(const Limits& limits, StreamEvents& events)
    : limits_(limits), events_(events) {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, &Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb, &Callbacks::on_invalid_frame);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &Callbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, &Callbacks::on_stream_close);
  nghttp2_session_callbacks_set_error_callback2(cb, &Callbacks::on_error);
  nghttp2_session_callbacks_set_on_frame_send_callback(cb, &Callbacks::on_frame_send);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  // The window opens as the proxy passes request bodies on (consumed()), not as nghttp2
  // reads them: a slow target pushes back on the client.
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_continuations(opt, kMaxContinuations);
  nghttp2_option_set_stream_reset_rate_limit(opt, kResetBurst, kResetsPerSecond);
  // PING and SETTINGS acknowledgements queued for a client that does not read them.
  nghttp2_option_set_max_outbound_ack(opt, 1000);
  nghttp2_option_set_max_settings(opt, 32);
  nghttp2_session_server_new2(&session_, cb, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);

  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits_.initial_window_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits_.max_header_list_size},
      // RFC 8441: WebSocket over HTTP/2 by extended CONNECT.
      {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(limits_.connection_window_size));
  glitch_window_start_ms_ = core::monotonic_ms();
}

ServerSession::~ServerSession() {
  nghttp2_session_del(session_);
}

bool ServerSession::receive(const char* data, size_t n) {
  if (!failure_.empty() && !nghttp2_session_want_read(session_)) return false;
  ssize_t r = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), n);
  if (r < 0) {
    // The client is told why before the close: ENHANCE_YOUR_CALM for floods (ours, or
    // nghttp2's CONTINUATION and acknowledgement limits), PROTOCOL_ERROR otherwise. Where
    // nghttp2 queued a GOAWAY already, it stays the one sent.
    bool flood = r == NGHTTP2_ERR_CALLBACK_FAILURE || r == NGHTTP2_ERR_FLOODED ||
                 r == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS;
    nghttp2_session_terminate_session(session_,
                                      flood ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
    if (failure_.empty()) failure_ = nghttp2_strerror(static_cast<int>(r));
    ended_for_error_ = true;
    return false;
  }
  return true;
}

bool ServerSession::send(core::Buffer& out, size_t max) {
  return take_frames(session_, out, max, failure_);
}

bool ServerSession::wants_write() const {
  return nghttp2_session_want_write(session_) != 0;
}

bool ServerSession::finished() const {
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

void ServerSession::submit_response(int32_t stream, int status, const Fields& fields,
                                    bool has_body) {
  char status_text[4];
  std::to_chars(status_text, status_text + 3, status);
  std::vector<nghttp2_nv> headers;
  headers.reserve(fields.size() + 1);
  headers.push_back(h2::nv(":status", std::string_view(status_text, 3)));
  for (const auto& [name, value] : fields) headers.push_back(h2::nv(name, value));
  nghttp2_data_provider body{};
  body.read_callback = &Callbacks::read_body;
  nghttp2_submit_response(session_, stream, headers.data(), headers.size(),
                          has_body ? &body : nullptr);
}

void ServerSession::resume_body(int32_t stream) {
  nghttp2_session_resume_data(session_, stream);
}

void ServerSession::reset(int32_t stream, uint32_t error_code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream, error_code);
}

void ServerSession::consumed(int32_t stream, size_t n) {
  if (n > 0) nghttp2_session_consume(session_, stream, n);
}

void ServerSession::shut_down() {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

std::unique_ptr<RequestHead> ServerSession::take_head(int32_t stream) {
  for (auto it = heads_.begin(); it != heads_.end(); ++it) {
    if (it->first != stream) continue;
    std::unique_ptr<RequestHead> head = std::move(it->second);
    *it = std::move(heads_.back());
    heads_.pop_back();
    return head;
  }
  return nullptr;
}

void ServerSession::recycle(std::unique_ptr<RequestHead> head) {
  constexpr size_t kSpareHeads = 16;
  if (!core::kRecycleMemory || spare_heads_.size() >= kSpareHeads || head->fields.capacity() > 64)
    return;
  head->clear();
  spare_heads_.push_back(std::move(head));
}

bool ServerSession::glitch(const char* what) {
  int64_t now = core::monotonic_ms();
  if (now - glitch_window_start_ms_ >= kGlitchWindowMs) {
    glitch_window_start_ms_ = now;
    glitches_ = 0;
  }
  if (++glitches_ <= limits_.max_glitches) return true;
  failure_ = std::string("too many frames that do no work (") + what + " was one of " +
             std::to_string(glitches_) + " within 10 s; max_glitches " +
             std::to_string(limits_.max_glitches) + ")";
  return false;
}

}  // namespace ballast::h2
