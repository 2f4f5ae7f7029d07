#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ballast::load {

// The arrival rate over time of an open-loop load: how many requests per second should
// start at each moment, whatever the server does.
struct Profile {
  enum class Shape { kConstant, kStep, kRamp, kSpike, kSine, kTrace };
  Shape shape = Shape::kConstant;
  double rate = 100;     // constant; before the step; ramp start; spike base; sine mean
  double to = 0;         // after the step; ramp end; spike peak
  double at_s = 0;       // step time; spike start
  double spike_s = 5;    // spike length
  double amplitude = 0;  // sine
  double period_s = 60;  // sine
  double duration_s = 10;
  std::vector<std::pair<double, double>> trace;  // (from second, rate), sorted

  // Requests per second at `t` seconds from the start.
  double rate_at(double t) const;
  // The first intended send time: 0, unless the rate starts at zero.
  double first_arrival() const { return rate_at(0) > 0 ? 0 : next_arrival(0); }
  // The next intended send time after `t` (seconds), or a value >= duration_s when the
  // load is over: when the rate integrated from `t` reaches one request.
  double next_arrival(double t) const;
};

// Reads a trace: lines "SECONDS,RATE" (a header line and # comments are skipped); false
// with `error` naming the line when one is malformed.
bool read_trace(const std::string& path, Profile* profile, std::string* error);

// "constant", "step", "ramp", "spike", "sine" or "csv:FILE"; false when unknown.
bool parse_shape(const std::string& text, Profile* profile, std::string* error);

}  // namespace ballast::load
