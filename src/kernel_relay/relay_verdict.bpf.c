// The kernel relay's verdict program. It runs for every segment that arrives on a socket in
// `sockets` and sends its bytes straight to the peer socket's send queue, so small messages
// cross the relay without waking ballast. User space owns the pairing (`routes`) and reads
// the tallies; see kernel_relay.h for the protocol between the two.
//
// Built with clang -target bpf by src/kernel_relay/CMakeLists.txt and embedded in ballast.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "kernel_relay_maps.h"

// Each relayed socket, keyed by its cookie (SO_COOKIE): the redirect's destinations.
struct {
  __uint(type, BPF_MAP_TYPE_SOCKHASH);
  __uint(max_entries, KERNEL_RELAY_MAX_SOCKETS);
  __type(key, __u64);
  __type(value, __u64);
} sockets SEC(".maps");

// Written by user space only: where a socket's bytes go, and how far.
// No preallocation: a replaced element is freed after the programs using it are done.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, KERNEL_RELAY_MAX_SOCKETS);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, __u64);
  __type(value, struct relay_route);
} routes SEC(".maps");

// Written by this program only (user space creates each zeroed and reads it).
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, KERNEL_RELAY_MAX_SOCKETS);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, __u64);
  __type(value, struct relay_tally);
} tallies SEC(".maps");

// One ring per worker (created by the worker, at its index): the cookies of sockets whose
// bytes the program stopped forwarding, so the session that owns them takes over at once.
struct notice_ring {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, KERNEL_RELAY_RING_BYTES);
};
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, KERNEL_RELAY_MAX_WORKERS);
  __type(key, __u32);
  __array(values, struct notice_ring);
} notices SEC(".maps");

// From now on this socket's bytes stay with it for user space. A full ring loses the
// notice, not the bytes: the session's periodic check finds the tally passing.
static int stop_forwarding(struct relay_route* route, struct relay_tally* tally, __u64 cookie) {
  tally->passing = 1;
  void* ring = bpf_map_lookup_elem(&notices, &route->worker);
  if (ring) bpf_ringbuf_output(ring, &cookie, sizeof(cookie), 0);
  return SK_PASS;
}

SEC("sk_skb")
int relay_verdict(struct __sk_buff* skb) {
  // A segment without bytes carries a FIN, which TCP has already taken into account. Sent
  // on, it would make the peer's sender fail with EPIPE; user space passes the FIN on.
  if (skb->len == 0) return SK_DROP;
  __u64 cookie = bpf_get_socket_cookie(skb);
  struct relay_route* route = bpf_map_lookup_elem(&routes, &cookie);
  struct relay_tally* tally = bpf_map_lookup_elem(&tallies, &cookie);
  if (!route || !tally || tally->passing) return SK_PASS;
  // Past the budget, this socket's bytes stay with it from now on, for user space to read:
  // they then queue in the socket and TCP's window holds the sender back.
  if (tally->forwarded + skb->len > route->budget) return stop_forwarding(route, tally, cookie);
  // A peer not (or no longer) in the map: this socket's bytes are left to user space from
  // now on too, so that none it relays by hand overtakes one forwarded here.
  if (bpf_sk_redirect_hash(skb, &sockets, &route->peer, 0) != SK_PASS) {
    return stop_forwarding(route, tally, cookie);
  }
  // Segments of one socket are judged one at a time, under its lock: no atomics needed.
  tally->forwarded += skb->len;
  return SK_PASS;  // with the redirect set, SK_PASS sends the segment to the peer
}

char LICENSE[] SEC("license") = "GPL";
