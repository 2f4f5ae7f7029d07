#include "config/relay_reader.h"

namespace ballast::config {

void read_relay(MapReader& r, ListenerConfig::Relay& out, ErrorList& errors) {
  auto v = r.string("relay");
  if (!v) return;
  if (*v == "kernel") {
    out = ListenerConfig::Relay::kKernel;
  } else if (*v == "user") {
    out = ListenerConfig::Relay::kUserSpace;
  } else {
    errors.add(location_of(r.node("relay")), r.child_path("relay"),
               "unknown relay \"" + *v + "\"; expected kernel or user");
  }
}

}  // namespace ballast::config
