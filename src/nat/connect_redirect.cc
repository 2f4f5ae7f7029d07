#include "nat/connect_redirect.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "nat/connect_redirect_maps.h"
#include "nat/socket_diag.h"

// The compiled programs (connect_redirect.bpf.c), embedded at build time.
extern const unsigned char kConnectRedirectObject[];
extern const size_t kConnectRedirectObjectSize;

namespace ballast::nat {

namespace {

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or .../unified beside v1).
std::string cgroup2_root() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // "... MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS"
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream after(line.substr(dash + 3));
    std::string fstype;
    after >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream before(line.substr(0, dash));
    std::string field, mount_point;
    for (int i = 0; i < 5 && before >> field; ++i) {
      if (i == 4) mount_point = field;
    }
    return mount_point;
  }
  return "";
}

redirect_address to_map(const core::SocketAddress& a) {
  redirect_address r{};
  r.family = static_cast<__u16>(a.family());
  if (a.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(a.sa());
    r.addr[0] = in->sin_addr.s_addr;
    r.port = in->sin_port;
  } else {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a.sa());
    std::memcpy(r.addr, &in6->sin6_addr, 16);
    r.port = in6->sin6_port;
  }
  return r;
}

bool same(const redirect_address& a, const redirect_address& b) {
  return a.family == b.family && a.port == b.port && std::memcmp(a.addr, b.addr, 16) == 0;
}

}  // namespace

std::unique_ptr<ConnectRedirect> ConnectRedirect::load(std::string* why) {
  std::unique_ptr<ConnectRedirect> r(new ConnectRedirect());
  std::string root = cgroup2_root();
  if (root.empty()) {
    *why = "no cgroup v2 hierarchy is mounted";
    return nullptr;
  }
  r->object_ = bpf_object__open_mem(kConnectRedirectObject, kConnectRedirectObjectSize, nullptr);
  if (r->object_ == nullptr) {
    *why = errno_text("opening the connect redirect's BPF object");
    return nullptr;
  }
  if (bpf_object__load(r->object_) != 0) {
    *why = errno_text("loading the connect redirect (needs CAP_BPF and CAP_NET_ADMIN)");
    return nullptr;
  }
  r->routes_fd_ = bpf_object__find_map_fd_by_name(r->object_, "routes");
  r->flows_fd_ = bpf_object__find_map_fd_by_name(r->object_, "flows");
  if (r->routes_fd_ < 0 || r->flows_fd_ < 0) {
    *why = "the connect redirect's BPF object lacks its maps";
    return nullptr;
  }
  // This network namespace's cookie, before any program is attached.
  int home = bpf_object__find_map_fd_by_name(r->object_, "home");
  uint64_t netns = 0;
  socklen_t len = sizeof(netns);
  int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  bool known = probe >= 0 && getsockopt(probe, SOL_SOCKET, SO_NETNS_COOKIE, &netns, &len) == 0;
  if (probe >= 0) close(probe);
  const uint32_t zero = 0;
  if (home < 0 || !known || bpf_map_update_elem(home, &zero, &netns, BPF_ANY) != 0) {
    *why = errno_text("this network namespace's cookie (SO_NETNS_COOKIE, Linux 5.14)");
    return nullptr;
  }
  int cgroup = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup < 0) {
    *why = errno_text("opening " + root);
    return nullptr;
  }
  bpf_program* program = nullptr;
  bpf_object__for_each_program(program, r->object_) {
    bpf_link* link = bpf_program__attach_cgroup(program, cgroup);
    if (link == nullptr) {
      *why = errno_text(std::string("attaching ") + bpf_program__name(program) + " to " + root);
      close(cgroup);
      return nullptr;
    }
    r->links_.push_back(link);
  }
  close(cgroup);
  return r;
}

ConnectRedirect::~ConnectRedirect() {
  for (bpf_link* link : links_) bpf_link__destroy(link);
  if (object_ != nullptr) bpf_object__close(object_);
}

bool ConnectRedirect::set_routes(const std::vector<Route>& routes, std::string* why) {
  std::vector<redirect_address> keep;
  for (const Route& r : routes) {
    redirect_address key = to_map(r.from);
    redirect_route value{};
    // An existing route keeps its count: only its destination changes.
    if (bpf_map_lookup_elem(routes_fd_, &key, &value) != 0) value = redirect_route{};
    value.to = to_map(r.to);
    if (bpf_map_update_elem(routes_fd_, &key, &value, BPF_ANY) != 0) {
      *why = errno_text("the connect redirect's routes");
      return false;
    }
    keep.push_back(key);
  }
  for (const Route& old : routes_) {
    redirect_address key = to_map(old.from);
    bool kept = false;
    for (const redirect_address& k : keep) kept |= same(k, key);
    if (kept) continue;
    redirect_route value{};
    if (bpf_map_lookup_elem(routes_fd_, &key, &value) == 0) {
      retired_[old.from.to_string()] += value.connections;
    }
    bpf_map_delete_elem(routes_fd_, &key);
  }
  routes_ = routes;
  return true;
}

uint64_t ConnectRedirect::connections(const core::SocketAddress& from) const {
  auto retired = retired_.find(from.to_string());
  uint64_t total = retired == retired_.end() ? 0 : retired->second;
  redirect_address key = to_map(from);
  redirect_route value{};
  if (bpf_map_lookup_elem(routes_fd_, &key, &value) == 0) total += value.connections;
  return total;
}

int ConnectRedirect::close_flows_to(const core::SocketAddress& member, std::string* why) {
  std::vector<TcpSocket> sockets;
  if (!list_tcp_sockets(member.family(), &sockets, why)) return 0;
  redirect_address target = to_map(member);
  int closed = 0;
  std::string failure;
  for (const TcpSocket& s : sockets) {
    // A socket in TIME_WAIT has nothing left to send or receive.
    if (!(s.peer == member) || s.state == TCP_TIME_WAIT) continue;
    redirect_flow flow{};
    if (bpf_map_lookup_elem(flows_fd_, &s.cookie, &flow) != 0 || !same(flow.to, target)) continue;
    // One that cannot be closed does not keep the others open.
    std::string error;
    if (!destroy_tcp_socket(s, &error)) {
      if (failure.empty()) failure = error;
      continue;
    }
    bpf_map_delete_elem(flows_fd_, &s.cookie);
    ++closed;
  }
  *why = failure;
  return closed;
}

size_t ConnectRedirect::sweep() {
  std::set<uint64_t> alive;
  std::string why;
  for (int family : {AF_INET, AF_INET6}) {
    std::vector<TcpSocket> sockets;
    if (!list_tcp_sockets(family, &sockets, &why)) return 0;  // try again next time
    for (const TcpSocket& s : sockets) alive.insert(s.cookie);
  }
  std::vector<uint64_t> gone;
  size_t tracked = 0;
  uint64_t key = 0;
  uint64_t* previous = nullptr;
  // Bounded by the map's size; deleting waits until the walk is over.
  for (size_t i = 0; i < CONNECT_REDIRECT_MAX_FLOWS; ++i) {
    uint64_t next = 0;
    if (bpf_map_get_next_key(flows_fd_, previous, &next) != 0) break;
    ++tracked;
    if (alive.count(next) == 0) gone.push_back(next);
    key = next;
    previous = &key;
  }
  for (uint64_t cookie : gone) bpf_map_delete_elem(flows_fd_, &cookie);
  return tracked - gone.size();
}

}  // namespace ballast::nat
