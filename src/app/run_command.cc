#include <sys/resource.h>

#include <cstdio>

#include "app/commands.h"
#include "config/config_loader.h"
#include "tls/ticket_keys.h"
#include "control/controller.h"

namespace ballast::app {

namespace {
// Every client and upstream connection is a descriptor; the usual soft limit of 1024
// would cap a proxy at a few hundred clients. Raise it to the hard limit, as haproxy
// and nginx do.
void raise_file_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}
}  // namespace

int run_command(const std::string& config_path) {
  // One set of session ticket keys for the process: every TLS listener, every reload.
  auto ticket_keys = std::make_shared<tls::TicketKeys>();
  config::LoadResult result = config::load_config_file(config_path, {ticket_keys});
  if (!result.config) {
    for (const auto& e : result.errors.errors()) fprintf(stderr, "%s\n", e.to_string().c_str());
    fprintf(stderr, "%s: %zu error(s); not starting\n", config_path.c_str(),
            result.errors.errors().size());
    return 1;
  }
  raise_file_limit();
  control::Controller controller(config_path, std::move(*result.config), std::move(ticket_keys));
  return controller.run();
}

}  // namespace ballast::app
