#pragma once
#include <cstdint>
#include <memory>
#include <string>

struct bpf_object;
struct ring_buffer;

namespace ballast::kernel_relay {

// The kernel relay: an eBPF sockmap program that moves the bytes of a relayed pair of TCP
// sockets from one to the other inside the kernel, as they arrive, without waking ballast.
// A relay in user space pays a wake-up, a read and a send per message; for a database's
// small queries and answers that is most of the proxy's cost.
//
// How the work is shared with user space (TcpSession):
// - join() pairs two connected sockets. Bytes already queued in them are forwarded too.
// - Each socket has a budget: how many bytes in all the program may forward from it. User
//   space raises it as the peer's send queue takes them (bytes_taken), so what waits in the
//   kernel between the two stays bounded. Past its budget, a socket's bytes stay with it
//   (its tally says `passing`) and user space relays them, after the forwarded ones have
//   reached the peer. The socket's window then holds its sender back, as usual.
// - When the program stops forwarding a socket's bytes, it says so in the ring of the worker
//   that owns the pair (NoticeRing), so the session takes over without waiting to poll.
// - The program forwards no FIN: user space sees each hang-up, waits until the forwarded
//   bytes reached the peer, and passes it on with shutdown(SHUT_WR).
// - A socket leaves the relay when it is closed; leave() forgets its route and tally.
class KernelRelay {
 public:
  // The process's relay, loaded on first use and shared by every worker. nullptr when the
  // kernel refuses it (no BPF, no permission, an old kernel); refusal() says why, and the
  // first call logs it.
  static KernelRelay* shared();
  static const std::string& refusal();

  // Loads the program and attaches it to its socket map. nullptr and *why_not when refused.
  static std::unique_ptr<KernelRelay> load(std::string* why_not);
  ~KernelRelay();
  KernelRelay(const KernelRelay&) = delete;
  KernelRelay& operator=(const KernelRelay&) = delete;

  // The outcome of join() for each socket of the pair.
  struct Joined {
    uint64_t cookie_a = 0;
    uint64_t cookie_b = 0;
    bool a_in = false;  // a's bytes are judged by the program from now on
    bool b_in = false;
  };
  // Pairs two connected TCP sockets, each with `budget` bytes to forward; notices go to
  // `worker`'s ring. Either socket may
  // stay out (the maps are full, say): its bytes stay in it, for user space as before, and
  // the other's then pass to user space too (the program finds no peer to forward to).
  // Returns false with *why when neither is in.
  bool join(int a, int b, uint64_t budget, unsigned worker, Joined* out, std::string* why);

  struct Tally {
    uint64_t forwarded = 0;  // bytes sent on to the peer, in all
    bool passing = false;    // the program stopped: this socket's bytes are for user space
  };
  bool tally(uint64_t cookie, Tally* out) const;
  // Lets the program forward up to `budget` bytes in all from the socket `cookie`.
  bool set_budget(uint64_t cookie, uint64_t peer_cookie, unsigned worker, uint64_t budget);
  // Forgets a socket's route and tally; call after closing it.
  void leave(uint64_t cookie);

  // The cookies of sockets whose bytes the program stopped forwarding, for one worker.
  class NoticeRing {
   public:
    using Callback = void (*)(void* context, uint64_t cookie);
    ~NoticeRing();
    NoticeRing(const NoticeRing&) = delete;
    NoticeRing& operator=(const NoticeRing&) = delete;
    // Readable (EPOLLIN, level-triggered) while notices wait.
    int fd() const { return fd_; }
    // Calls the callback for each waiting notice.
    void consume();
    void deliver(uint64_t cookie) { callback_(context_, cookie); }

   private:
    friend class KernelRelay;
    NoticeRing() = default;
    int fd_ = -1;
    ring_buffer* ring_ = nullptr;
    Callback callback_ = nullptr;
    void* context_ = nullptr;
  };
  // Creates worker `worker`'s ring (below KERNEL_RELAY_MAX_WORKERS). nullptr and *why when
  // the kernel refuses; the sessions' periodic checks then find stopped relays instead.
  std::unique_ptr<NoticeRing> open_notices(unsigned worker, NoticeRing::Callback callback,
                                           void* context, std::string* why);

 private:
  KernelRelay() = default;

  bpf_object* object_ = nullptr;
  int notices_fd_ = -1;
  int sockets_fd_ = -1;
  int routes_fd_ = -1;
  int tallies_fd_ = -1;
  int program_fd_ = -1;
};

// The kernel's cookie for a socket: unique for the system's uptime, never reused.
uint64_t socket_cookie(int fd);

// Bytes a TCP socket's send queue has taken since the connection began: acknowledged
// plus still queued. The acknowledged count is read first, so an acknowledgement arriving
// between the two reads makes the sum smaller than the truth, never larger.
uint64_t bytes_taken(int fd);

}  // namespace ballast::kernel_relay
