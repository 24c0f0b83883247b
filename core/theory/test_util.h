// One numeric-comparison helper for the exact-theory tests: |a - b| <=
// abs_tol + rel_tol |b|, with a message naming both values.
#ifndef NNFT_CORE_THEORY_TEST_UTIL_H_
#define NNFT_CORE_THEORY_TEST_UTIL_H_

#include <cmath>

#include "gtest/gtest.h"

namespace nnft::theory {

inline ::testing::AssertionResult IsClose(double actual, double expected,
                                          double rel_tol,
                                          double abs_tol = 0.0) {
  const double err = std::abs(actual - expected);
  if (err <= abs_tol + rel_tol * std::abs(expected)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "actual " << actual << " vs expected " << expected << " (error "
         << err << ", allowed " << abs_tol + rel_tol * std::abs(expected)
         << ")";
}

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_TEST_UTIL_H_
