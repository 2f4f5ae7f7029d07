#pragma once
#include <string>
#include <vector>

#include "app/admin_client.h"

namespace ballast::app {

// `ballast ctl db [NAME]`: each database's members with their roles, lag and what each
// endpoint does with them, and the latest role changes.
// `ballast ctl db switchover NAME [--to MEMBER]`: asks for a planned switchover, then waits
// (up to 60 s) until ballast's writer follows the new primary, or says why it did not.
int ctl_db(const AdminEndpoint& api, const std::vector<std::string>& args, bool json,
           const std::string& to);

}  // namespace ballast::app
