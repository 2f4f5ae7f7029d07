// The connect() redirect: a database writer's clients on this host connect straight to the
// primary. Attached to the root cgroup (v2), it runs at each connect() of a TCP socket; when
// the destination is a writer's bind in `routes`, it rewrites it to the primary's address
// and records the socket in `flows`, so that getpeername() still shows the address asked for
// and ballast can close the socket when that member is fenced. The connection is then an
// ordinary one from client to PostgreSQL: no NAT, no relay, nothing per packet.
//
// Built with clang -target bpf by src/nat/CMakeLists.txt and embedded in ballast.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "connect_redirect_maps.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

// Written by user space once: the cookie of ballast's network namespace. The programs run
// for every process of the cgroup, containers in namespaces of their own included, whose
// addresses mean something else: only connects made in ballast's namespace are redirected.
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} home SEC(".maps");

// Written by user space only: where each writer's bind leads now.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, CONNECT_REDIRECT_MAX_ROUTES);
  __type(key, struct redirect_address);
  __type(value, struct redirect_route);
} routes SEC(".maps");

// Written here at connect; read, swept of closed sockets and used to fence by user space.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, CONNECT_REDIRECT_MAX_FLOWS);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, __u64);
  __type(value, struct redirect_flow);
} flows SEC(".maps");

// The route for `key`, with the flow recorded; null when there is none or the flow cannot be
// tracked (then the connect goes where it asked).
static __always_inline struct redirect_route* take(struct bpf_sock_addr* ctx,
                                                   struct redirect_address* key) {
  __u32 zero = 0;
  __u64* netns = bpf_map_lookup_elem(&home, &zero);
  if (!netns || *netns != bpf_get_netns_cookie(ctx)) return 0;
  struct redirect_route* route = bpf_map_lookup_elem(&routes, key);
  if (!route || route->to.family != key->family) return 0;
  struct redirect_flow flow = {};
  flow.from = *key;
  flow.to = route->to;
  __u64 cookie = bpf_get_socket_cookie(ctx);
  if (bpf_map_update_elem(&flows, &cookie, &flow, BPF_ANY) != 0) return 0;
  __sync_fetch_and_add(&route->connections, 1);
  return route;
}

SEC("cgroup/connect4")
int redirect_connect4(struct bpf_sock_addr* ctx) {
  if (ctx->protocol != IPPROTO_TCP) return 1;
  struct redirect_address key = {};
  key.family = AF_INET;
  key.port = (__u16)ctx->user_port;
  key.addr[0] = ctx->user_ip4;
  struct redirect_route* route = take(ctx, &key);
  if (route) {
    ctx->user_ip4 = route->to.addr[0];
    ctx->user_port = route->to.port;
  }
  return 1;
}

SEC("cgroup/connect6")
int redirect_connect6(struct bpf_sock_addr* ctx) {
  if (ctx->protocol != IPPROTO_TCP) return 1;
  struct redirect_address key = {};
  key.family = AF_INET6;
  key.port = (__u16)ctx->user_port;
  key.addr[0] = ctx->user_ip6[0];
  key.addr[1] = ctx->user_ip6[1];
  key.addr[2] = ctx->user_ip6[2];
  key.addr[3] = ctx->user_ip6[3];
  struct redirect_route* route = take(ctx, &key);
  if (route) {
    ctx->user_ip6[0] = route->to.addr[0];
    ctx->user_ip6[1] = route->to.addr[1];
    ctx->user_ip6[2] = route->to.addr[2];
    ctx->user_ip6[3] = route->to.addr[3];
    ctx->user_port = route->to.port;
  }
  return 1;
}

// A redirected socket's peer is the address it connected to, as through a proxy.
SEC("cgroup/getpeername4")
int redirect_getpeername4(struct bpf_sock_addr* ctx) {
  __u64 cookie = bpf_get_socket_cookie(ctx);
  struct redirect_flow* flow = bpf_map_lookup_elem(&flows, &cookie);
  if (flow && flow->from.family == AF_INET) {
    ctx->user_ip4 = flow->from.addr[0];
    ctx->user_port = flow->from.port;
  }
  return 1;
}

SEC("cgroup/getpeername6")
int redirect_getpeername6(struct bpf_sock_addr* ctx) {
  __u64 cookie = bpf_get_socket_cookie(ctx);
  struct redirect_flow* flow = bpf_map_lookup_elem(&flows, &cookie);
  if (flow && flow->from.family == AF_INET6) {
    ctx->user_ip6[0] = flow->from.addr[0];
    ctx->user_ip6[1] = flow->from.addr[1];
    ctx->user_ip6[2] = flow->from.addr[2];
    ctx->user_ip6[3] = flow->from.addr[3];
    ctx->user_port = flow->from.port;
  }
  return 1;
}

char LICENSE[] SEC("license") = "GPL";
