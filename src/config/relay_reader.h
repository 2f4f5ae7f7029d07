#pragma once
#include "config/config.h"
#include "config/errors.h"
#include "config/yaml_reader.h"

namespace ballast::config {

// relay: kernel | user — who moves a tcp connection's bytes. Read for tcp listeners and
// for databases (whose endpoints are tcp listeners); `out` keeps its default when absent.
void read_relay(MapReader& r, ListenerConfig::Relay& out, ErrorList& errors);

}  // namespace ballast::config
