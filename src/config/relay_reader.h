#pragma once
#include "config/config.h"
#include "config/errors.h"
#include "config/yaml_reader.h"

namespace ballast::config {

// relay: kernel | user — who moves a tcp connection's bytes. Read for tcp listeners and
// for databases (whose endpoints are tcp listeners); `out` keeps its default when absent.
// A database also takes `relay: nat` (`writer_path` given): its writer's connections go
// straight to the primary by NAT, and what NAT cannot carry through the kernel relay.
void read_relay(MapReader& r, ListenerConfig::Relay& out, ErrorList& errors,
                DatabaseConfig::WriterPath* writer_path = nullptr);

}  // namespace ballast::config
