#include "lb/balancer_factory.h"

#include <array>

#include "lb/round_robin.h"
#include "lb/smooth_weighted_round_robin.h"

namespace ballast::lb {

namespace {
constexpr std::array<std::string_view, 2> kNames = {"round_robin", "weighted_round_robin"};
}

bool parse_algorithm(std::string_view name, Algorithm* out) {
  if (name == "round_robin") {
    *out = Algorithm::kRoundRobin;
    return true;
  }
  if (name == "weighted_round_robin") {
    *out = Algorithm::kWeightedRoundRobin;
    return true;
  }
  return false;
}

const char* algorithm_name(Algorithm a) {
  return a == Algorithm::kRoundRobin ? "round_robin" : "weighted_round_robin";
}

std::span<const std::string_view> algorithm_names() {
  return kNames;
}

std::unique_ptr<Balancer> make_balancer(Algorithm algorithm, std::span<const TargetState> targets) {
  bool uniform = true;
  for (const auto& t : targets) uniform = uniform && t.weight == targets.front().weight;
  if (algorithm == Algorithm::kRoundRobin && uniform) return std::make_unique<RoundRobin>();
  return std::make_unique<SmoothWeightedRoundRobin>();
}

}  // namespace ballast::lb
