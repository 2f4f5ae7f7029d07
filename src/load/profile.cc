#include "load/profile.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>

namespace ballast::load {

double Profile::rate_at(double t) const {
  switch (shape) {
    case Shape::kConstant:
      return rate;
    case Shape::kStep:
      return t < at_s ? rate : to;
    case Shape::kRamp:
      return duration_s <= 0 ? rate : rate + (to - rate) * std::clamp(t / duration_s, 0.0, 1.0);
    case Shape::kSpike:
      return t >= at_s && t < at_s + spike_s ? to : rate;
    case Shape::kSine:
      return std::max(0.0, rate + amplitude * std::sin(2 * M_PI * t / std::max(period_s, 1e-3)));
    case Shape::kTrace: {
      double r = trace.empty() ? 0 : trace.front().second;
      for (const auto& [from, value] : trace) {
        if (from > t) break;
        r = value;
      }
      return r;
    }
  }
  return rate;
}

double Profile::next_arrival(double t) const {
  // The time by which one more request's worth of rate has accrued: the integral of the
  // rate from `t` reaches 1. Stepping by a millisecond keeps a rising rate (a ramp from
  // zero) from being read as its low starting value for a whole 1/rate interval.
  constexpr double kStep = 0.001;
  double owed = 1;
  for (double x = t; x < duration_s; x += kStep) {
    double r = rate_at(x);
    if (r * kStep >= owed) return x + owed / r;
    owed -= r * kStep;
  }
  return duration_s;
}

bool read_trace(const std::string& path, Profile* profile, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read trace \"" + path + "\"";
    return false;
  }
  std::string line;
  int number = 0;
  profile->trace.clear();
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    char* end = nullptr;
    double from = strtod(line.c_str(), &end);
    if (end == line.c_str() || *end != ',') {
      if (number == 1) continue;  // a header
      *error = path + ":" + std::to_string(number) + ": expected SECONDS,RATE";
      return false;
    }
    const char* rate_text = end + 1;
    double rate = strtod(rate_text, &end);
    if (end == rate_text || from < 0 || rate < 0) {
      *error = path + ":" + std::to_string(number) + ": expected SECONDS,RATE (both >= 0)";
      return false;
    }
    profile->trace.emplace_back(from, rate);
  }
  if (profile->trace.empty()) {
    *error = "trace \"" + path + "\" has no SECONDS,RATE line";
    return false;
  }
  std::sort(profile->trace.begin(), profile->trace.end());
  return true;
}

bool parse_shape(const std::string& text, Profile* profile, std::string* error) {
  using S = Profile::Shape;
  if (text == "constant") {
    profile->shape = S::kConstant;
  } else if (text == "step") {
    profile->shape = S::kStep;
  } else if (text == "ramp") {
    profile->shape = S::kRamp;
  } else if (text == "spike") {
    profile->shape = S::kSpike;
  } else if (text == "sine") {
    profile->shape = S::kSine;
  } else if (text.rfind("csv:", 0) == 0) {
    profile->shape = S::kTrace;
    return read_trace(text.substr(4), profile, error);
  } else {
    *error =
        "unknown profile \"" + text + "\"; expected constant, step, ramp, spike, sine or csv:FILE";
    return false;
  }
  return true;
}

}  // namespace ballast::load
