#include "config/relay_reader.h"

namespace ballast::config {

void read_relay(MapReader& r, ListenerConfig::Relay& out, ErrorList& errors,
                DatabaseConfig::WriterPath* writer_path) {
  auto v = r.string("relay");
  if (!v) return;
  if (*v == "kernel") {
    out = ListenerConfig::Relay::kKernel;
  } else if (*v == "user") {
    out = ListenerConfig::Relay::kUserSpace;
  } else if (*v == "nat" && writer_path != nullptr) {
    out = ListenerConfig::Relay::kKernel;
    *writer_path = DatabaseConfig::WriterPath::kNat;
  } else {
    std::string expected = writer_path != nullptr
                               ? "expected kernel, user or nat"
                               : "expected kernel or user (nat is for databases' writers)";
    errors.add(location_of(r.node("relay")), r.child_path("relay"),
               "unknown relay \"" + *v + "\"; " + expected);
  }
}

}  // namespace ballast::config
