#include "core/estimate/compare.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace nnft {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(CompareTest, ComputesZScoresAndChi2PerDof) {
  Comparison c = Compare({1.0, 2.0, 3.0}, {0.5, 1.0, 0.25}, {0.0, 2.5, 3.5});
  ASSERT_EQ(c.z.size(), 3u);
  EXPECT_DOUBLE_EQ(c.z[0], 2.0);
  EXPECT_DOUBLE_EQ(c.z[1], -0.5);
  EXPECT_DOUBLE_EQ(c.z[2], -2.0);
  EXPECT_EQ(c.dof, 3);
  EXPECT_DOUBLE_EQ(c.chi2, 4.0 + 0.25 + 4.0);
  EXPECT_DOUBLE_EQ(c.chi2_per_dof, 8.25 / 3.0);
  EXPECT_DOUBLE_EQ(c.max_abs_z, 2.0);
}

TEST(CompareTest, SkipsEntriesWithoutExactValueOrPositiveError) {
  Comparison c = Compare({1.0, 2.0, 3.0, 4.0, 5.0}, {1.0, 0.0, kNaN, 1.0, 1.0},
                         {0.0, 2.5, 3.5, kNaN, 8.0});
  EXPECT_DOUBLE_EQ(c.z[0], 1.0);
  EXPECT_TRUE(std::isnan(c.z[1]));
  EXPECT_TRUE(std::isnan(c.z[2]));
  EXPECT_TRUE(std::isnan(c.z[3]));
  EXPECT_DOUBLE_EQ(c.z[4], -3.0);
  EXPECT_EQ(c.dof, 2);
  EXPECT_DOUBLE_EQ(c.chi2_per_dof, 5.0);
  EXPECT_DOUBLE_EQ(c.max_abs_z, 3.0);
}

TEST(CompareTest, NothingComparableGivesNanSoChecksFail) {
  Comparison c = Compare({1.0}, {0.0}, {1.0});
  EXPECT_EQ(c.dof, 0);
  EXPECT_TRUE(std::isnan(c.chi2_per_dof));
  EXPECT_FALSE(c.max_abs_z < 4.5);
}

}  // namespace
}  // namespace nnft
