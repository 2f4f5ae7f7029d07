// Feeds arbitrary bytes to what a node reads from etcd: the gateway's replies and watch
// messages, then the events into a ClusterView. Checks what the node relies on: a reply of
// the wrong shape is a CodecError (never a crash or another exception), base64 round-trips,
// and the view's revision never goes back through events.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cluster/cluster_view.h"
#include "cluster/etcd_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ballast::cluster;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto decoded = unbase64(text);
  // (Padding bits need not be zero, so "ead=" and "eac=" decode alike: compare bytes.)
  if (decoded && unbase64(base64(*decoded)) != decoded) std::abort();
  if (unbase64(base64(text)) != text) std::abort();
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  ClusterView view(ClusterKeys("/b"));
  try {
    view.load(parse_range(j));
  } catch (const CodecError&) {
  }
  try {
    parse_txn(j);
  } catch (const CodecError&) {
  }
  try {
    parse_keepalive_ttl(j);
    parse_lease_grant(j);
  } catch (const CodecError&) {
  }
  try {
    WatchMessage m = parse_watch(j);
    for (const auto& e : m.events) {
      int64_t before = view.revision();
      view.apply(e);
      if (view.revision() < before) std::abort();
    }
  } catch (const CodecError&) {
  }
  return 0;
}
