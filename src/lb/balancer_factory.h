#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "lb/balancer.h"

namespace ballast::lb {

enum class Algorithm {
  kRoundRobin,
  kWeightedRoundRobin,
  kLeastConnections,
  kLeastOutstandingRequests,
  kRandom,
  kIpHash,
  kRingHash,
  kMaglev,
  kLeastTime,
};

// The documented default: least outstanding requests adapts to slow targets, which
// round robin cannot, at the same O(1) cost.
constexpr Algorithm kDefaultAlgorithm = Algorithm::kLeastOutstandingRequests;

// Parses an algorithm name as written in the configuration.
bool parse_algorithm(std::string_view name, Algorithm* out);
const char* algorithm_name(Algorithm a);
// The names accepted by parse_algorithm, for error messages.
std::span<const std::string_view> algorithm_names();
// Whether the algorithm routes by PickContext::hash (ip_hash, ring_hash, maglev).
bool uses_hash(Algorithm a);

// Builds a balancer for these targets. Weights apply to every algorithm: round_robin
// over targets of unequal weight behaves as weighted_round_robin. `seed` seeds the
// randomised algorithms (each worker passes its own).
std::unique_ptr<Balancer> make_balancer(Algorithm algorithm, std::span<const TargetState> targets,
                                        uint64_t seed = 0);

}  // namespace ballast::lb
