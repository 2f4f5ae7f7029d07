#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace ballast::test {

// Runs one scenario of the frame-level HTTP/2 peer (tests/integration/peers/h2_peer.py)
// against an h2c listener on 127.0.0.1:port; its JSON report ({"error": output} when it
// printed none).
nlohmann::json run_h2_peer(uint16_t port, const std::string& scenario, int count = 1);

}  // namespace ballast::test
