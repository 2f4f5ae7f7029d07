#include "cluster/key_watch.h"

#include <algorithm>

#include "core/log.h"

namespace ballast::cluster {

namespace {
constexpr int64_t kFirstBackoffMs = 500;
constexpr int64_t kMaxBackoffMs = 4000;
// etcd's largest request is 1.5 MiB by default, base64 makes 2; a message larger than
// this is not the gateway speaking.
constexpr size_t kMaxMessage = size_t{8} << 20;
}  // namespace

KeyWatch::KeyWatch(core::EventLoop& loop, EtcdClient& etcd, WatchedKeys& keys, std::string what)
    : loop_(loop), etcd_(etcd), keys_(keys), what_(std::move(what)) {}

KeyWatch::~KeyWatch() {
  close_stream();
}

void KeyWatch::start() {
  read_all();
}

void KeyWatch::restart(const std::string& why) {
  if (reading_ && !watching_) return;  // already starting over
  broken(why);
}

void KeyWatch::read_all() {
  reading_ = true;
  uint64_t generation = ++generation_;
  std::weak_ptr<bool> alive = alive_;
  etcd_.call("/v3/kv/range", range_request(keys_.prefix(), true),
             [this, alive, generation](const Reply& reply) {
               if (!alive.lock() || generation != generation_) return;
               reading_ = false;
               if (!reply.ok) return broken(reply.error);
               RangeReply range;
               try {
                 range = parse_range(reply.body);
               } catch (const CodecError& e) {
                 return broken(std::string("etcd's range reply: ") + e.what());
               }
               std::string odd = keys_.inconsistency(range.header);
               if (!odd.empty()) {
                 ++resyncs_;
                 LOG_ERROR("%s: %s; reading everything again", what_.c_str(), odd.c_str());
               }
               backoff_ms_ = 0;
               last_error_.clear();
               keys_.load(range, odd);
               open_watch();
             });
}

void KeyWatch::open_watch() {
  close_stream();
  pending_.clear();
  uint64_t generation = generation_;
  std::weak_ptr<bool> alive = alive_;
  stream_ = etcd_.open_stream(
      "/v3/watch", watch_request(keys_.prefix(), keys_.revision() + 1),
      [this, generation](std::string_view data) {
        if (generation == generation_) on_chunk(data);
      },
      [this, alive, generation](const std::string& why) {
        if (!alive.lock() || generation != generation_) return;
        broken(why);
      });
}

void KeyWatch::on_chunk(std::string_view data) {
  pending_.append(data);
  // The gateway ends each message with a newline; JSON itself has none inside.
  size_t start = 0;
  while (true) {
    size_t end = pending_.find('\n', start);
    if (end == std::string::npos) break;
    std::string_view line(pending_.data() + start, end - start);
    start = end + 1;
    if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
    nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
    if (message.is_discarded()) {
      pending_.clear();
      return loop_.post([this, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.lock()) broken("etcd's watch stream: a message that is not JSON");
      });
    }
    uint64_t generation = generation_;
    on_message(message);
    if (generation != generation_) return;  // the stream was replaced
  }
  pending_.erase(0, start);
  if (pending_.size() > kMaxMessage) {
    pending_.clear();
    loop_.post([this, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.lock()) broken("etcd's watch stream: a message larger than 8 MiB");
    });
  }
}

void KeyWatch::on_message(const nlohmann::json& message) {
  WatchMessage m;
  try {
    m = parse_watch(message);
  } catch (const CodecError& e) {
    // Not inside the stream's own callback: defer the teardown to the loop.
    std::string why = std::string("etcd's watch stream: ") + e.what();
    ++generation_;
    loop_.post([this, why, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.lock()) broken(why);
    });
    return;
  }
  std::string odd = keys_.inconsistency(m.header);
  if (m.canceled || !odd.empty()) {
    std::string why;
    if (m.compact_revision != 0) {
      ++compactions_;
      why = "revision " + std::to_string(keys_.revision() + 1) + " was compacted (now " +
            std::to_string(m.compact_revision) + "); reading everything again";
    } else {
      why = odd.empty() ? "etcd cancelled the watch: " + m.cancel_reason : odd;
    }
    LOG_WARN("%s: %s", what_.c_str(), why.c_str());
    ++generation_;
    loop_.post([this, alive = std::weak_ptr<bool>(alive_)] {
      if (!alive.lock()) return;
      close_stream();
      watching_ = false;
      read_all();
    });
    return;
  }
  if (m.created) {
    watching_ = true;
    LOG_INFO("%s: watching %s from revision %lld on %s", what_.c_str(), keys_.prefix().c_str(),
             static_cast<long long>(keys_.revision() + 1), etcd_.endpoint().host.c_str());
  }
  keys_.apply(m);
}

void KeyWatch::broken(const std::string& why) {
  ++generation_;
  if (why != last_error_) LOG_WARN("%s: %s", what_.c_str(), why.c_str());
  last_error_ = why;
  watching_ = false;
  reading_ = false;
  close_stream();
  etcd_.rotate();
  retry_later();
}

void KeyWatch::retry_later() {
  backoff_ms_ = backoff_ms_ == 0 ? kFirstBackoffMs : std::min(kMaxBackoffMs, backoff_ms_ * 2);
  loop_.timers().arm(retry_timer_, backoff_ms_, loop_.now_ms());
}

void KeyWatch::on_retry(void* self) {
  static_cast<KeyWatch*>(self)->read_all();
}

void KeyWatch::close_stream() {
  http::retire(loop_, std::move(stream_));
}

}  // namespace ballast::cluster
