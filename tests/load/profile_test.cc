#include "load/profile.h"

#include <gtest/gtest.h>

#include <fstream>

namespace ballast::load {
namespace {

// How many arrivals a profile makes over its duration.
int arrivals(const Profile& p) {
  int n = 0;
  for (double t = p.first_arrival(); t < p.duration_s; t = p.next_arrival(t)) ++n;
  return n;
}

TEST(ProfileTest, ShapesGiveTheRateOverTime) {
  Profile p;
  p.shape = Profile::Shape::kStep;
  p.rate = 10;
  p.to = 50;
  p.at_s = 5;
  EXPECT_EQ(p.rate_at(4.9), 10);
  EXPECT_EQ(p.rate_at(5), 50);
  p.shape = Profile::Shape::kRamp;
  p.duration_s = 10;
  EXPECT_DOUBLE_EQ(p.rate_at(5), 30);
  p.shape = Profile::Shape::kSpike;
  p.spike_s = 2;
  EXPECT_EQ(p.rate_at(6.9), 50);
  EXPECT_EQ(p.rate_at(7), 10);
  p.shape = Profile::Shape::kSine;
  p.amplitude = 5;
  p.period_s = 4;
  EXPECT_NEAR(p.rate_at(1), 15, 1e-9);
  EXPECT_NEAR(p.rate_at(3), 5, 1e-9);
}

TEST(ProfileTest, ArrivalsFollowTheRate) {
  Profile constant;
  constant.rate = 200;
  constant.duration_s = 3;
  EXPECT_NEAR(arrivals(constant), 600, 2);
  Profile step;
  step.shape = Profile::Shape::kStep;
  step.rate = 100;
  step.to = 300;
  step.at_s = 1;
  step.duration_s = 2;
  EXPECT_NEAR(arrivals(step), 400, 3);
  Profile quiet;
  quiet.rate = 0;
  quiet.duration_s = 2;
  EXPECT_EQ(arrivals(quiet), 0) << "a zero rate sends nothing, not even at the start";
  Profile ramp;
  ramp.shape = Profile::Shape::kRamp;
  ramp.rate = 0;
  ramp.to = 100;
  ramp.duration_s = 2;
  EXPECT_GT(ramp.first_arrival(), 0) << "a ramp from zero does not send at time 0";
  EXPECT_NEAR(arrivals(ramp), 100, 10) << "the area under the ramp";
}

TEST(ProfileTest, TracesAreReadAndCheckedLineByLine) {
  std::string path = testing::TempDir() + "/trace.csv";
  std::ofstream(path) << "seconds,rate\n0,10\n# a comment\n5,100\n";
  Profile p;
  std::string error;
  ASSERT_TRUE(parse_shape("csv:" + path, &p, &error)) << error;
  EXPECT_EQ(p.rate_at(2), 10);
  EXPECT_EQ(p.rate_at(7), 100);
  std::ofstream(path) << "0,10\n5;100\n";
  EXPECT_FALSE(read_trace(path, &p, &error));
  EXPECT_NE(error.find("trace.csv:2: expected SECONDS,RATE"), std::string::npos) << error;
  EXPECT_FALSE(parse_shape("zigzag", &p, &error));
  EXPECT_NE(error.find("unknown profile \"zigzag\""), std::string::npos);
}

}  // namespace
}  // namespace ballast::load
