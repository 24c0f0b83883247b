// Small status helpers missing from Abseil 20220623: early return on error
// and assign-or-return. Every module uses these instead of its own copies.
#ifndef NNFT_CORE_STATUS_MACROS_H_
#define NNFT_CORE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define NNFT_STATUS_CONCAT_INNER_(a, b) a##b
#define NNFT_STATUS_CONCAT_(a, b) NNFT_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function when it is not OK.
#define NNFT_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status nnft_status_ = (expr);        \
    if (!nnft_status_.ok()) return nnft_status_; \
  } while (0)

// `NNFT_ASSIGN_OR_RETURN(auto x, F())`: evaluates F() (an absl::StatusOr<T>),
// returns its status when not OK, otherwise moves the value into `lhs`.
#define NNFT_ASSIGN_OR_RETURN(lhs, expr)                                     \
  NNFT_ASSIGN_OR_RETURN_IMPL_(NNFT_STATUS_CONCAT_(nnft_statusor_, __LINE__), \
                              lhs, expr)

#define NNFT_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)   \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)

#endif  // NNFT_CORE_STATUS_MACROS_H_
