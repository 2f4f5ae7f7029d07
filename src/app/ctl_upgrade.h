#pragma once
#include "app/admin_client.h"

namespace ballast::app {

// `ballast ctl upgrade`: asks the running ballast to hand over to the binary now at its
// path, then waits (up to 60 s) until the new process answers on the admin address, or
// the old one says why it could not. 0 when the new process serves.
int ctl_upgrade(const AdminEndpoint& api);

}  // namespace ballast::app
