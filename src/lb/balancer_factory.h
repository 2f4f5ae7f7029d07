#pragma once
#include <memory>
#include <span>
#include <string_view>

#include "lb/balancer.h"

namespace ballast::lb {

enum class Algorithm { kRoundRobin, kWeightedRoundRobin };

// Parses an algorithm name as written in the configuration.
bool parse_algorithm(std::string_view name, Algorithm* out);
const char* algorithm_name(Algorithm a);
// The names accepted by parse_algorithm, for error messages.
std::span<const std::string_view> algorithm_names();

// Weights apply to every algorithm: round_robin over targets of unequal weight
// behaves as weighted_round_robin.
std::unique_ptr<Balancer> make_balancer(Algorithm algorithm, std::span<const TargetState> targets);

}  // namespace ballast::lb
