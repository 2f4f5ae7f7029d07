#pragma once
#include <memory>
#include <string>
#include <vector>

namespace ballast::config {

// A composite alarm's rule, as CloudWatch writes them:
//   ALARM("high-latency") AND NOT (OK(errors) OR INSUFFICIENT_DATA("cpu")), TRUE, FALSE.
// Names may be quoted or bare; AND binds tighter than OR.
struct AlarmRule {
  enum class Kind { kAnd, kOr, kNot, kState, kConstant };
  Kind kind = Kind::kConstant;
  std::string state;  // kState: "ALARM", "OK" or "INSUFFICIENT_DATA"
  std::string alarm;  // kState: the alarm named
  bool constant = false;
  std::vector<std::shared_ptr<const AlarmRule>> operands;

  // Parses `text`; null with `error` (naming the column) when it is malformed.
  static std::shared_ptr<const AlarmRule> parse(const std::string& text, std::string* error);
  // Every alarm the rule names.
  void names(std::vector<std::string>* out) const;
  // Evaluates with `state_of(name)` giving each named alarm's state.
  template <typename F>
  bool evaluate(F state_of) const {
    switch (kind) {
      case Kind::kAnd:
        for (const auto& o : operands) {
          if (!o->evaluate(state_of)) return false;
        }
        return true;
      case Kind::kOr:
        for (const auto& o : operands) {
          if (o->evaluate(state_of)) return true;
        }
        return false;
      case Kind::kNot:
        return !operands[0]->evaluate(state_of);
      case Kind::kState:
        return state_of(alarm) == state;
      case Kind::kConstant:
        return constant;
    }
    return false;
  }
};

}  // namespace ballast::config
