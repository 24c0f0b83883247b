#include "core/spec/tuples.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nnft {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Binomial coefficient, for counts of multisets C(P + n - 1, n).
int64_t Choose(int64_t n, int64_t k) {
  int64_t c = 1;
  for (int64_t i = 1; i <= k; ++i) c = c * (n - k + i) / i;
  return c;
}

int64_t CountOfSize(const TupleSet& set, size_t n) {
  return std::count_if(set.tuples().begin(), set.tuples().end(),
                       [n](const Tuple& t) { return t.size() == n; });
}

TEST(TupleSetTest, CountsMultisetsOfSixPoints) {
  ObservableSpec obs{.orders = {2, 4}, .tuples = {}};
  auto set = TupleSet::Build(6, obs, 1 << 20);
  ASSERT_TRUE(set.ok()) << set.status();
  // 21 pairs and 126 quadruples requested.
  EXPECT_EQ(set->requested().size(), 21u + 126u);
  // The closure holds every multiset of size 1..4: 6 + 21 + 56 + 126.
  EXPECT_EQ(CountOfSize(*set, 1), 6);
  EXPECT_EQ(CountOfSize(*set, 2), 21);
  EXPECT_EQ(CountOfSize(*set, 3), 56);
  EXPECT_EQ(CountOfSize(*set, 4), 126);
  EXPECT_EQ(set->size(), 209);
  EXPECT_EQ(set->size(), Choose(6 + 4, 4) - 1);
}

TEST(TupleSetTest, ClosureSizesMatchBinomialSumsForEveryMaxOrder) {
  for (int p : {1, 3, 7}) {
    for (int n = 1; n <= kMaxOrder; ++n) {
      auto set = TupleSet::Build(p, {.orders = {n}, .tuples = {}}, 1 << 20);
      ASSERT_TRUE(set.ok()) << set.status();
      int64_t expected = 0;
      for (int k = 1; k <= n; ++k) expected += Choose(p + k - 1, k);
      EXPECT_EQ(set->size(), expected) << "P=" << p << " n=" << n;
      EXPECT_EQ(static_cast<int64_t>(set->requested().size()),
                Choose(p + n - 1, n));
    }
  }
}

TEST(TupleSetTest, OrdersBySizeThenLexicographically) {
  auto set = TupleSet::Build(3, {.orders = {2}, .tuples = {}}, 100);
  ASSERT_TRUE(set.ok());
  std::vector<Tuple> expected = {{0},    {1},    {2},    {0, 0}, {0, 1},
                                 {0, 2}, {1, 1}, {1, 2}, {2, 2}};
  EXPECT_EQ(set->tuples(), expected);
  EXPECT_THAT(set->requested(), ElementsAre(3, 4, 5, 6, 7, 8));
  for (int i = 0; i < set->size(); ++i) {
    EXPECT_EQ(set->Find(set->tuples()[i]), i);
  }
  EXPECT_EQ(set->Find({0, 1, 2}), -1);
}

TEST(TupleSetTest, ExplicitTuplesAreSortedDeduplicatedAndClosed) {
  ObservableSpec obs{.orders = {}, .tuples = {{3, 1, 1}, {1, 3, 1}, {2, 0}}};
  auto set = TupleSet::Build(4, obs, 100);
  ASSERT_TRUE(set.ok()) << set.status();
  // Sub-multisets of {1,1,3}: {1},{3},{1,1},{1,3},{1,1,3}; of {0,2}:
  // {0},{2},{0,2}.
  std::vector<Tuple> expected = {{0},    {1},    {2},    {3},
                                 {0, 2}, {1, 1}, {1, 3}, {1, 1, 3}};
  EXPECT_EQ(set->tuples(), expected);
  ASSERT_EQ(set->requested().size(), 2u);
  EXPECT_EQ(set->tuples()[set->requested()[0]], (Tuple{1, 1, 3}));
  EXPECT_EQ(set->tuples()[set->requested()[1]], (Tuple{0, 2}));
}

TEST(TupleSetTest, RejectsOversizeRequestBeforeMaterialising) {
  // Every 6-tuple over 4096 points: about 6.6e18 tuples; must fail at once.
  auto set = TupleSet::Build(4096, {.orders = {6}, .tuples = {}}, 1 << 22);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(set.status().message(), HasSubstr("max_tuples = 4194304"));
}

TEST(TupleSetTest, ReportsExactClosureCountWhenOverLimit) {
  auto set = TupleSet::Build(6, {.orders = {2, 4}, .tuples = {}}, 208);
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(set.status().message(), HasSubstr("need 209 index tuples"));
  EXPECT_THAT(set.status().message(), HasSubstr("max_tuples = 208"));
}

TEST(TupleSetTest, RejectsExplicitClosureOverLimit) {
  ObservableSpec obs{.orders = {}, .tuples = {{0, 1, 2, 3, 4, 5}}};
  auto set = TupleSet::Build(6, obs, 62);  // the closure has 63 tuples
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(set.status().message(), HasSubstr("max_tuples = 62"));
  EXPECT_TRUE(TupleSet::Build(6, obs, 63).ok());
}

TEST(TupleSetTest, CountClosureAgreesWithBuild) {
  const std::vector<ObservableSpec> requests = {
      {.orders = {2, 4}, .tuples = {}},
      {.orders = {1, 6}, .tuples = {}},
      {.orders = {}, .tuples = {{3, 1, 1}, {1, 3, 1}, {2, 0}, {0, 1, 2, 3}}},
  };
  for (const ObservableSpec& obs : requests) {
    auto built = TupleSet::Build(4, obs, 1 << 20);
    auto counted = TupleSet::CountClosure(4, obs, 1 << 20);
    ASSERT_TRUE(built.ok() && counted.ok());
    EXPECT_EQ(*counted, built->size());
  }
  // Fails fast, as Build does, without materialising 6.6e18 tuples.
  auto huge =
      TupleSet::CountClosure(4096, {.orders = {6}, .tuples = {}}, 1 << 22);
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TupleSetTest, RejectsBadOrdersAndIndices) {
  EXPECT_EQ(
      TupleSet::Build(3, {.orders = {0}, .tuples = {}}, 100).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      TupleSet::Build(3, {.orders = {7}, .tuples = {}}, 100).status().message(),
      HasSubstr("observables.orders[0] = 7: must be in [1, 6]"));
  EXPECT_THAT(
      TupleSet::Build(3, {.orders = {}, .tuples = {{-1}}}, 100)
          .status()
          .message(),
      HasSubstr("observables.tuples[0].index[0] = -1: must be in [0, 2]"));
  EXPECT_THAT(TupleSet::Build(3, {.orders = {}, .tuples = {{}}}, 100)
                  .status()
                  .message(),
              HasSubstr("observables.tuples[0] has 0 indices"));
  EXPECT_FALSE(TupleSet::Build(3, {.orders = {}, .tuples = {}}, 100).ok());
}

}  // namespace
}  // namespace nnft
