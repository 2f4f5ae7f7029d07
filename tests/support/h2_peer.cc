#include "support/h2_peer.h"

#include "support/process.h"
#include "support/test_env.h"

namespace ballast::test {

nlohmann::json run_h2_peer(uint16_t port, const std::string& scenario, int count) {
  static const std::string kPeer =
      std::string(BALLAST_SOURCE_DIR) + "/tests/integration/peers/h2_peer.py";
  std::string dir = make_temp_dir();
  Process p({"/usr/bin/python3", kPeer, std::to_string(port), scenario, std::to_string(count)},
            dir + "/peer.log");
  p.wait_exit(60000);
  std::string out = p.log();
  size_t brace = out.rfind("{\"goaway\"");
  if (brace == std::string::npos) return nlohmann::json{{"error", out}};
  return nlohmann::json::parse(out.substr(brace), nullptr, false);
}

}  // namespace ballast::test
