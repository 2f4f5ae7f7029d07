// cut_nat_flows (nat_table.h): a dump of conntrack's table, the NATed flows picked out, then
// each deleted through a second handle (a handle cannot be asked while it dumps).
#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "nat/nat_table.h"

namespace ballast::nat {

namespace {

struct Cut {
  const core::SocketAddress* bind;
  const core::SocketAddress* member;
  std::vector<nf_conntrack*> found;
};

bool same_ip(const nf_conntrack* ct, nf_conntrack_attr v4_attr, nf_conntrack_attr v6_attr,
             const core::SocketAddress& a) {
  if (a.family() == AF_INET) {
    return nfct_get_attr_u32(ct, v4_attr) ==
           reinterpret_cast<const sockaddr_in*>(a.sa())->sin_addr.s_addr;
  }
  const void* ip = nfct_get_attr(ct, v6_attr);
  return ip != nullptr &&
         std::memcmp(ip, &reinterpret_cast<const sockaddr_in6*>(a.sa())->sin6_addr, 16) == 0;
}

// A flow a writer's rule NATed to the member: to the bind's port (and address, unless the
// bind is a wildcard), answered from the member's address and port.
bool ours(const nf_conntrack* ct, const Cut& cut) {
  if (nfct_get_attr_u8(ct, ATTR_L4PROTO) != IPPROTO_TCP) return false;
  if ((nfct_get_attr_u32(ct, ATTR_STATUS) & IPS_DST_NAT) == 0) return false;
  if (nfct_get_attr_u8(ct, ATTR_L3PROTO) != cut.member->family()) return false;
  if (ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST)) != cut.bind->port()) return false;
  if (ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC)) != cut.member->port()) return false;
  if (!same_ip(ct, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC, *cut.member)) return false;
  return cut.bind->is_wildcard() || cut.bind->family() != cut.member->family() ||
         same_ip(ct, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST, *cut.bind);
}

int collect(enum nf_conntrack_msg_type, nf_conntrack* ct, void* data) {
  Cut& cut = *static_cast<Cut*>(data);
  if (ours(ct, cut)) cut.found.push_back(nfct_clone(ct));
  return NFCT_CB_CONTINUE;
}

}  // namespace

int cut_nat_flows(const core::SocketAddress& bind, const core::SocketAddress& member,
                  std::string* why) {
  Cut cut{&bind, &member, {}};
  nfct_handle* dump = nfct_open(CONNTRACK, 0);
  if (dump == nullptr) {
    *why = std::string("conntrack: ") + std::strerror(errno);
    return -1;
  }
  nfct_callback_register(dump, NFCT_T_ALL, collect, &cut);
  uint32_t family = static_cast<uint32_t>(member.family());
  int rc = nfct_query(dump, NFCT_Q_DUMP, &family);
  int dump_errno = errno;
  nfct_close(dump);
  if (rc != 0) {
    for (nf_conntrack* ct : cut.found) nfct_destroy(ct);
    *why = std::string("conntrack dump: ") + std::strerror(dump_errno);
    return -1;
  }
  int deleted = 0;
  if (!cut.found.empty()) {
    nfct_handle* h = nfct_open(CONNTRACK, 0);
    for (nf_conntrack* ct : cut.found) {
      // ENOENT: the flow ended meanwhile, which is as good.
      if (h != nullptr && nfct_query(h, NFCT_Q_DESTROY, ct) == 0) ++deleted;
      nfct_destroy(ct);
    }
    if (h != nullptr) nfct_close(h);
  }
  return deleted;
}

}  // namespace ballast::nat
