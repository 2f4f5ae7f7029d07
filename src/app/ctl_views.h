#pragma once
#include "app/admin_client.h"
#include "app/commands.h"

namespace ballast::app {

// `ballast ctl top`: redraws every second; `iterations` screens (0: until interrupted).
int ctl_top(const AdminEndpoint& api, int iterations);
// `ballast ctl metrics METRIC [DIM=VALUE...] --stat S --period P --since D`.
int ctl_metrics(const AdminEndpoint& api, const CtlOptions& options);

}  // namespace ballast::app
