#include "h2/client_session.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>

#include "h2/nv.h"

namespace ballast::h2 {

// The nghttp2 callbacks, each a static function that finds its ClientSession.
struct ClientSession::Callbacks {
  static ClientSession& self(void* user) { return *static_cast<ClientSession*>(user); }

  static int on_begin_headers(nghttp2_session* s, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    ClientSession& me = self(user);
    auto head = std::make_unique<ResponseHead>();
    if (nghttp2_session_set_stream_user_data(s, frame->hd.stream_id, head.get()) != 0)
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    me.heads_[frame->hd.stream_id] = std::move(head);
    return 0;
  }

  static int on_header(nghttp2_session* s, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    auto* head =
        static_cast<ResponseHead*>(nghttp2_session_get_stream_user_data(s, frame->hd.stream_id));
    if (head == nullptr) return 0;
    // RFC 9113 6.5.2: the size of a field is its name, its value and 32.
    head->decoded_bytes += static_cast<uint32_t>(namelen + valuelen + 32);
    if (head->decoded_bytes > self(user).limits_.max_header_list_size) {
      head->too_large = true;
      head->fields.clear();
    }
    if (head->too_large) return 0;
    std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":status") {
      std::from_chars(v.data(), v.data() + v.size(), head->status);  // nghttp2 checked 3 digits
    } else {
      head->fields.emplace_back(n, v);
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session* s, const nghttp2_frame* frame, void* user) {
    ClientSession& me = self(user);
    bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    int32_t id = frame->hd.stream_id;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        auto* head = static_cast<ResponseHead*>(nghttp2_session_get_stream_user_data(s, id));
        if (head == nullptr) break;
        nghttp2_session_set_stream_user_data(s, id, nullptr);
        std::unique_ptr<ResponseHead> owned = std::move(me.heads_[id]);
        me.heads_.erase(id);
        // A head without :status is the trailers (nghttp2 allows them only after the final
        // response): not passed on, but they may end the stream.
        if (owned->status != 0 || owned->too_large) {
          me.events_.on_response_head(id, *owned, end_stream);
        } else if (end_stream) {
          me.events_.on_response_end(id);
        }
        break;
      }
      case NGHTTP2_DATA:
        if (end_stream) me.events_.on_response_end(id);
        break;
      case NGHTTP2_GOAWAY:
        me.goaway_ = true;
        me.goaway_last_stream_ = std::min(me.goaway_last_stream_, frame->goaway.last_stream_id);
        break;
      default:
        break;
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session*, uint8_t, int32_t stream, const uint8_t* data,
                           size_t len, void* user) {
    self(user).events_.on_response_data(stream, reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int on_stream_close(nghttp2_session* s, int32_t stream, uint32_t code, void* user) {
    ClientSession& me = self(user);
    nghttp2_session_set_stream_user_data(s, stream, nullptr);
    me.heads_.erase(stream);
    if (me.open_streams_ > 0) --me.open_streams_;
    me.events_.on_stream_close(stream, code);
    return 0;
  }

  static ssize_t read_body(nghttp2_session*, int32_t stream, uint8_t* buf, size_t len,
                           uint32_t* flags, nghttp2_data_source*, void* user) {
    bool end = false;
    size_t n =
        self(user).events_.read_request_body(stream, reinterpret_cast<char*>(buf), len, &end);
    if (end) *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (n == 0 && !end) return NGHTTP2_ERR_DEFERRED;
    return static_cast<ssize_t>(n);
  }

  static int on_error(nghttp2_session*, int, const char* msg, size_t len, void* user) {
    ClientSession& me = self(user);
    if (me.failure_.empty()) me.failure_.assign(msg, len);
    return 0;
  }
};

ClientSession::ClientSession(const Limits& limits, ResponseEvents& events)
    : limits_(limits), events_(events) {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, &Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &Callbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, &Callbacks::on_stream_close);
  nghttp2_session_callbacks_set_error_callback2(cb, &Callbacks::on_error);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  // The windows open as the proxy passes response bodies on (consumed()): a slow client
  // pushes back on the target.
  nghttp2_option_set_no_auto_window_update(opt, 1);
  // Until the target's SETTINGS say otherwise.
  nghttp2_option_set_peer_max_concurrent_streams(opt, limits_.max_concurrent_streams);
  nghttp2_option_set_max_outbound_ack(opt, 1000);
  nghttp2_option_set_max_settings(opt, 32);
  nghttp2_session_client_new2(&session_, cb, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);

  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 0},  // the target opens none (no push)
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits_.initial_window_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits_.max_header_list_size},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(limits_.connection_window_size));
}

ClientSession::~ClientSession() {
  nghttp2_session_del(session_);
}

bool ClientSession::receive(const char* data, size_t n) {
  ssize_t r = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(data), n);
  if (r < 0) {
    nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
    if (failure_.empty()) failure_ = nghttp2_strerror(static_cast<int>(r));
    goaway_ = true;
    return false;
  }
  return true;
}

bool ClientSession::send(core::Buffer& out, size_t max) {
  if (take_frames(session_, out, max, failure_)) return true;
  goaway_ = true;
  return false;
}

bool ClientSession::wants_write() const {
  return nghttp2_session_want_write(session_) != 0;
}

bool ClientSession::finished() const {
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

int32_t ClientSession::submit_request(const Fields& fields, bool has_body) {
  if (open_streams_ >= stream_limit()) return -1;
  std::vector<nghttp2_nv> headers;
  headers.reserve(fields.size());
  for (const auto& [name, value] : fields) headers.push_back(h2::nv(name, value));
  nghttp2_data_provider body{};
  body.read_callback = &Callbacks::read_body;
  int32_t id = nghttp2_submit_request(session_, nullptr, headers.data(), headers.size(),
                                      has_body ? &body : nullptr, nullptr);
  if (id < 0) {
    // Stream ids ran out (2^31 requests on one connection): it takes no more.
    goaway_ = true;
    return -1;
  }
  ++open_streams_;
  return id;
}

void ClientSession::resume_body(int32_t stream) {
  nghttp2_session_resume_data(session_, stream);
}

void ClientSession::reset(int32_t stream, uint32_t error_code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream, error_code);
}

void ClientSession::consumed(int32_t stream, size_t n) {
  if (n > 0) nghttp2_session_consume(session_, stream, n);
}

void ClientSession::shut_down() {
  if (goaway_) return;
  goaway_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, nullptr, 0);
}

uint32_t ClientSession::stream_limit() const {
  if (goaway_ || nghttp2_session_check_request_allowed(session_) == 0) return 0;
  return std::min(
      limits_.max_concurrent_streams,
      nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS));
}

bool ClientSession::unprocessed(int32_t stream, uint32_t error_code) const {
  return error_code == NGHTTP2_REFUSED_STREAM || stream > goaway_last_stream_;
}

}  // namespace ballast::h2
