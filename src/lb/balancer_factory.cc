#include "lb/balancer_factory.h"

#include <array>

#include "lb/least_time.h"
#include "lb/maglev.h"
#include "lb/power_of_two.h"
#include "lb/rendezvous_hash.h"
#include "lb/ring_hash.h"
#include "lb/round_robin.h"
#include "lb/smooth_weighted_round_robin.h"
#include "lb/weighted_random.h"

namespace ballast::lb {

namespace {
struct Entry {
  std::string_view name;
  Algorithm algorithm;
};
constexpr std::array<Entry, 9> kAlgorithms = {{
    {"round_robin", Algorithm::kRoundRobin},
    {"weighted_round_robin", Algorithm::kWeightedRoundRobin},
    {"least_connections", Algorithm::kLeastConnections},
    {"least_outstanding_requests", Algorithm::kLeastOutstandingRequests},
    {"random", Algorithm::kRandom},
    {"ip_hash", Algorithm::kIpHash},
    {"ring_hash", Algorithm::kRingHash},
    {"maglev", Algorithm::kMaglev},
    {"least_time", Algorithm::kLeastTime},
}};
constexpr std::array<std::string_view, kAlgorithms.size()> kNames = [] {
  std::array<std::string_view, kAlgorithms.size()> names{};
  for (size_t i = 0; i < kAlgorithms.size(); ++i) names[i] = kAlgorithms[i].name;
  return names;
}();
}  // namespace

bool parse_algorithm(std::string_view name, Algorithm* out) {
  for (const auto& e : kAlgorithms) {
    if (e.name == name) {
      *out = e.algorithm;
      return true;
    }
  }
  return false;
}

const char* algorithm_name(Algorithm a) {
  for (const auto& e : kAlgorithms) {
    if (e.algorithm == a) return e.name.data();
  }
  return "unknown";
}

std::span<const std::string_view> algorithm_names() {
  return kNames;
}

bool uses_hash(Algorithm a) {
  return a == Algorithm::kIpHash || a == Algorithm::kRingHash || a == Algorithm::kMaglev;
}

std::unique_ptr<Balancer> make_balancer(Algorithm algorithm, std::span<const TargetState> targets,
                                        uint64_t seed) {
  switch (algorithm) {
    case Algorithm::kRoundRobin: {
      bool uniform = true;
      for (const auto& t : targets) uniform = uniform && t.weight == targets.front().weight;
      if (uniform) return std::make_unique<RoundRobin>();
      return std::make_unique<SmoothWeightedRoundRobin>();
    }
    case Algorithm::kWeightedRoundRobin:
      return std::make_unique<SmoothWeightedRoundRobin>();
    case Algorithm::kLeastConnections:
      return std::make_unique<PowerOfTwoChoices>(PowerOfTwoChoices::Load::kConnections, seed);
    case Algorithm::kLeastOutstandingRequests:
      return std::make_unique<PowerOfTwoChoices>(PowerOfTwoChoices::Load::kInFlight, seed);
    case Algorithm::kRandom:
      return std::make_unique<WeightedRandom>(seed);
    case Algorithm::kIpHash:
      return std::make_unique<RendezvousHash>();
    case Algorithm::kRingHash:
      return std::make_unique<RingHash>(targets);
    case Algorithm::kMaglev:
      return std::make_unique<Maglev>(targets);
    case Algorithm::kLeastTime:
      return std::make_unique<LeastTime>();
  }
  return std::make_unique<RoundRobin>();
}

}  // namespace ballast::lb
