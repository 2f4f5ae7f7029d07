#include "kernel_relay/kernel_relay.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/sockios.h>
#include <linux/tcp.h>  // (not netinet/tcp.h: its tcp_info lacks tcpi_bytes_acked)
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "core/log.h"
#include "kernel_relay/kernel_relay_maps.h"

// The compiled verdict program (relay_verdict.bpf.c), embedded at build time.
extern const unsigned char kRelayVerdictObject[];
extern const size_t kRelayVerdictObjectSize;

namespace ballast::kernel_relay {

namespace {

// libbpf explains a refusal (the verifier's log, say) through this: kept at debug level,
// since refusal() says what matters. libbpf's own format strings: printf-checked as such.
__attribute__((format(printf, 2, 0))) int log_libbpf(enum libbpf_print_level level,
                                                     const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[1024];
  vsnprintf(line, sizeof(line), format, args);
  size_t n = strlen(line);
  while (n > 0 && line[n - 1] == '\n') line[--n] = '\0';
  LOG_DEBUG("libbpf: %s", line);
  return 0;
}

std::string errno_text(const char* what) {
  return std::string(what) + ": " + strerror(errno);
}

struct SharedRelay {
  std::unique_ptr<KernelRelay> relay;
  std::string refusal;
};

const SharedRelay& shared_relay() {
  // Loaded once, by whichever worker asks first; C++ makes the initialisation thread-safe.
  static const SharedRelay kShared = [] {
    SharedRelay s;
    s.relay = KernelRelay::load(&s.refusal);
    if (s.relay) {
      LOG_INFO("kernel relay loaded: tcp connections move their bytes inside the kernel");
    } else {
      LOG_WARN("kernel relay unavailable (%s): tcp connections are relayed in user space",
               s.refusal.c_str());
    }
    return s;
  }();
  return kShared;
}

}  // namespace

KernelRelay* KernelRelay::shared() {
  return shared_relay().relay.get();
}

const std::string& KernelRelay::refusal() {
  return shared_relay().refusal;
}

std::unique_ptr<KernelRelay> KernelRelay::load(std::string* why_not) {
  libbpf_set_print(log_libbpf);
  std::unique_ptr<KernelRelay> relay(new KernelRelay());
  relay->object_ = bpf_object__open_mem(kRelayVerdictObject, kRelayVerdictObjectSize, nullptr);
  if (relay->object_ == nullptr) {
    *why_not = errno_text("opening the BPF object");
    return nullptr;
  }
  if (bpf_object__load(relay->object_) != 0) {
    *why_not = errno_text("loading the BPF program (needs CAP_BPF and CAP_NET_ADMIN)");
    return nullptr;
  }
  relay->sockets_fd_ = bpf_object__find_map_fd_by_name(relay->object_, "sockets");
  relay->routes_fd_ = bpf_object__find_map_fd_by_name(relay->object_, "routes");
  relay->tallies_fd_ = bpf_object__find_map_fd_by_name(relay->object_, "tallies");
  relay->notices_fd_ = bpf_object__find_map_fd_by_name(relay->object_, "notices");
  bpf_program* program = bpf_object__find_program_by_name(relay->object_, "relay_verdict");
  relay->program_fd_ = program != nullptr ? bpf_program__fd(program) : -1;
  if (relay->sockets_fd_ < 0 || relay->routes_fd_ < 0 || relay->tallies_fd_ < 0 ||
      relay->notices_fd_ < 0 || relay->program_fd_ < 0) {
    *why_not = "the BPF object lacks its maps or program";
    return nullptr;
  }
  if (bpf_prog_attach(relay->program_fd_, relay->sockets_fd_, BPF_SK_SKB_VERDICT, 0) != 0) {
    *why_not = errno_text("attaching the verdict program to its socket map");
    return nullptr;
  }
  return relay;
}

KernelRelay::~KernelRelay() {
  if (object_ != nullptr) bpf_object__close(object_);
}

bool KernelRelay::join(int a, int b, uint64_t budget, unsigned worker, Joined* out,
                       std::string* why) {
  out->cookie_a = socket_cookie(a);
  out->cookie_b = socket_cookie(b);
  if (out->cookie_a == 0 || out->cookie_b == 0) {
    *why = errno_text("SO_COOKIE");
    return false;
  }
  // Routes and tallies first: the program finds a socket's route from its first byte on.
  const relay_tally zero{};
  const relay_route to_b{out->cookie_b, budget, worker, 0};
  const relay_route to_a{out->cookie_a, budget, worker, 0};
  if (bpf_map_update_elem(tallies_fd_, &out->cookie_a, &zero, BPF_NOEXIST) != 0 ||
      bpf_map_update_elem(tallies_fd_, &out->cookie_b, &zero, BPF_NOEXIST) != 0 ||
      bpf_map_update_elem(routes_fd_, &out->cookie_a, &to_b, BPF_NOEXIST) != 0 ||
      bpf_map_update_elem(routes_fd_, &out->cookie_b, &to_a, BPF_NOEXIST) != 0) {
    *why = errno_text("the relay's maps");
    leave(out->cookie_a);
    leave(out->cookie_b);
    return false;
  }
  // Then the sockets. A byte of a that arrives before b is in finds no peer: the program
  // then leaves a's bytes to user space for good, so none overtakes another.
  const uint64_t fd_a = static_cast<uint64_t>(a);
  const uint64_t fd_b = static_cast<uint64_t>(b);
  out->a_in = bpf_map_update_elem(sockets_fd_, &out->cookie_a, &fd_a, BPF_NOEXIST) == 0;
  if (!out->a_in) {
    *why = errno_text("the relay's socket map");
    leave(out->cookie_a);
    leave(out->cookie_b);
    return false;
  }
  out->b_in = bpf_map_update_elem(sockets_fd_, &out->cookie_b, &fd_b, BPF_NOEXIST) == 0;
  if (!out->b_in) {
    *why = errno_text("the relay's socket map");
    set_budget(out->cookie_a, out->cookie_b, worker, 0);  // a passes all to user space
  }
  // Bytes that arrived before a socket was in wait in its queue until the next segment
  // wakes the program. Setting SO_RCVLOWAT (to its default, 1) runs it over them now.
  const int one = 1;
  setsockopt(a, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
  if (out->b_in) setsockopt(b, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
  return true;
}

bool KernelRelay::tally(uint64_t cookie, Tally* out) const {
  relay_tally t{};
  if (bpf_map_lookup_elem(tallies_fd_, &cookie, &t) != 0) return false;
  out->forwarded = t.forwarded;
  out->passing = t.passing != 0;
  return true;
}

bool KernelRelay::set_budget(uint64_t cookie, uint64_t peer_cookie, unsigned worker,
                             uint64_t budget) {
  const relay_route route{peer_cookie, budget, worker, 0};
  return bpf_map_update_elem(routes_fd_, &cookie, &route, BPF_EXIST) == 0;
}

void KernelRelay::leave(uint64_t cookie) {
  bpf_map_delete_elem(routes_fd_, &cookie);
  bpf_map_delete_elem(tallies_fd_, &cookie);
}

namespace {
int on_notice(void* context, void* data, size_t size) {
  auto* ring = static_cast<KernelRelay::NoticeRing*>(context);
  uint64_t cookie = 0;
  if (size >= sizeof(cookie)) memcpy(&cookie, data, sizeof(cookie));
  ring->deliver(cookie);
  return 0;
}
}  // namespace

std::unique_ptr<KernelRelay::NoticeRing> KernelRelay::open_notices(unsigned worker,
                                                                   NoticeRing::Callback callback,
                                                                   void* context,
                                                                   std::string* why) {
  if (worker >= KERNEL_RELAY_MAX_WORKERS) {
    *why = "more workers than the relay has rings for";
    return nullptr;
  }
  std::unique_ptr<NoticeRing> ring(new NoticeRing());
  ring->callback_ = callback;
  ring->context_ = context;
  ring->fd_ =
      bpf_map_create(BPF_MAP_TYPE_RINGBUF, "relay_notices", 0, 0, KERNEL_RELAY_RING_BYTES, nullptr);
  if (ring->fd_ < 0) {
    *why = errno_text("creating a notice ring");
    return nullptr;
  }
  if (bpf_map_update_elem(notices_fd_, &worker, &ring->fd_, BPF_ANY) != 0) {
    *why = errno_text("installing the notice ring");
    return nullptr;
  }
  ring->ring_ = ring_buffer__new(ring->fd_, on_notice, ring.get(), nullptr);
  if (ring->ring_ == nullptr) {
    *why = errno_text("mapping the notice ring");
    return nullptr;
  }
  return ring;
}

KernelRelay::NoticeRing::~NoticeRing() {
  if (ring_ != nullptr) ring_buffer__free(ring_);
  if (fd_ >= 0) ::close(fd_);
}

void KernelRelay::NoticeRing::consume() {
  ring_buffer__consume(ring_);
}

uint64_t socket_cookie(int fd) {
  uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0) return 0;
  return cookie;
}

uint64_t bytes_taken(int fd) {
  tcp_info info{};
  socklen_t len = sizeof(info);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return 0;
  int queued = 0;
  if (ioctl(fd, SIOCOUTQ, &queued) != 0) queued = 0;
  return info.tcpi_bytes_acked + static_cast<uint64_t>(queued > 0 ? queued : 0);
}

}  // namespace ballast::kernel_relay
