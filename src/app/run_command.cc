#include <cstdio>

#include "app/commands.h"
#include "config/config_loader.h"
#include "proxy/server.h"

namespace ballast::app {

int run_command(const std::string& config_path) {
  config::LoadResult result = config::load_config_file(config_path);
  if (!result.config) {
    for (const auto& e : result.errors.errors()) fprintf(stderr, "%s\n", e.to_string().c_str());
    fprintf(stderr, "%s: %zu error(s); not starting\n", config_path.c_str(),
            result.errors.errors().size());
    return 1;
  }
  proxy::Server server(std::move(*result.config));
  return server.run();
}

}  // namespace ballast::app
