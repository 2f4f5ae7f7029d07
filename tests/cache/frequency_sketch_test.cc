#include "cache/frequency_sketch.h"

#include <gtest/gtest.h>

namespace ballast::cache {
namespace {

uint64_t mix(uint64_t i) {
  return (i + 1) * 0x9E3779B97F4A7C15ull;
}

TEST(FrequencySketchTest, CountsUpToFifteen) {
  FrequencySketch s(1024);
  EXPECT_EQ(s.estimate(mix(1)), 0u);
  for (int i = 0; i < 5; ++i) s.increment(mix(1));
  EXPECT_EQ(s.estimate(mix(1)), 5u);
  for (int i = 0; i < 50; ++i) s.increment(mix(1));
  EXPECT_EQ(s.estimate(mix(1)), 15u);
}

TEST(FrequencySketchTest, OtherKeysRarelyInflateAnEstimate) {
  FrequencySketch s(4096);
  for (uint64_t k = 0; k < 4096; ++k) s.increment(mix(k));
  // Every key once: with four rows, a key's smallest counter is rarely pushed past 1.
  int over = 0;
  for (uint64_t k = 0; k < 4096; ++k) over += s.estimate(mix(k)) > 1 ? 1 : 0;
  EXPECT_LT(over, 4096 / 100);
  for (uint64_t k = 5000; k < 5100; ++k) EXPECT_LE(s.estimate(mix(k)), 2u);
}

TEST(FrequencySketchTest, AgingHalvesEveryCounter) {
  FrequencySketch s(64);
  for (int i = 0; i < 8; ++i) s.increment(mix(7));
  s.age();
  EXPECT_EQ(s.estimate(mix(7)), 4u);
}

TEST(FrequencySketchTest, AgesByItselfAfterItsSamplePeriod) {
  FrequencySketch s(64);  // ages after 640 counted increments
  for (int i = 0; i < 15; ++i) s.increment(mix(1));
  for (uint64_t k = 100; k < 800; ++k) s.increment(mix(k));
  EXPECT_LT(s.estimate(mix(1)), 15u);
}

}  // namespace
}  // namespace ballast::cache
