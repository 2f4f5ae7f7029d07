#include "app/commands.h"

namespace ballast::app {

int backend_command(const backend::BackendOptions& options) {
  backend::BackendServer server(options);
  return server.run();
}

}  // namespace ballast::app
