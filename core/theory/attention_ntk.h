// The neural tangent kernel of the softmax attention layer
// (core/spec/spec.h AttentionSpec) in the NTK parameterisation (every weight
// a unit normal times its scale: Wq = (sq/sqrt D) Zq, Wk, Wv likewise,
// Wo = (so/sqrt(N e)) Zo, b = sb z; all trained), exact in the ensemble mean
// at every head count N (heads are i.i.d.; each parameter's gradient inner
// product is averaged over its own head).
//
// For one head with logits l_s = q_t.k_s/sqrt(e), weights A_s = softmax_s,
// u = sum_s A_s x_s and Y = sum_s A_s (x_s - u) x_s^T (D x D), integrating
// Wo and Wv (Gaussian, independent of Wq, Wk) in closed form
// (dphi/dl_s = A_s (w_s - sum_s' A_s' w_s'), w_s = Wo.v_s):
//   Theta(x, y) = sb^2 + 2 cv E[u(x).u(y)]                 (b; Wo and Wv)
//     + cq (x_t.y_t) E[tr(Y(x) Zk Zk^T Y(y)^T)]            (Wq)
//     + cq E[(x_t^T Zq Zq^T y_t) tr(Y(x) Y(y)^T)]           (Wk),
//   cv = so^2 sv^2 / D,  cq = cv sq^2 sk^2 / (D^2 e),
// t = output_position. The NNGP kernel is sb^2 + cv E[u.u]
// (attention_kernel.h). In the variables of attention_kernel.h (M = c L G, Zq
// Zq^T = L L^T) the rest of Zk Zk^T is G^T G plus a Wishart part independent of
// L and G with mean (e - r) I (r = min(D, e)), and Theta is linear in it:
//   Zk Zk^T -> G^T G + (e - r) I.
// Both expectations are sums of inner products of per-point features
// (u, Y [G^T, sqrt(e - r) I], (L^T x_t) (x) Y), accumulated over the same
// Gauss-chi product rule over (L, G) as the kernel: Q = 7 dimensions for
// D = 2 (4 for e = 1). Hron et al., "Infinite attention" (arXiv 2006.10540),
// take e -> infinity as well; at fixed e the logits are not Gaussian and the
// expectation is this quadrature.
//
// Cost: n^Q nodes x P points x T tokens (one softmax and O(T D^2) features
// each) plus O(P^2 D^2 (r + D)) per node for the rank updates (batched over
// 64 nodes): ~1.3 us per node at P = 8, T = 4 on one core.
#ifndef NNFT_CORE_THEORY_ATTENTION_NTK_H_
#define NNFT_CORE_THEORY_ATTENTION_NTK_H_

#include "Eigen/Core"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/spec/spec.h"
#include "core/theory/ntk.h"

namespace nnft::theory {

struct AttentionNtkOptions {
  // Nodes per dimension, in [2, 64]; 0: automatic, the largest n <= 32 with
  // n^Q <= 2.1e6 and n^Q P (T + P) <= max_evaluations, at least 6 (8 for
  // the 7-dimensional rule, 32 for Q <= 4). The rule converges slowly like
  // the kernel's: for D = e = 2 order 8 is within ~1e-3 relative of order
  // 14 (order 7: 2e-3; the kernel's own entries move 5e-3 from 12 to 14).
  int order = 0;
  // OpenMP threads, >= 1; the result does not depend on it (fixed blocks
  // summed in order).
  int threads = 1;
  // Most work units n^Q P (T + P) (P softmaxes over T tokens and the P^2
  // rank updates per node, ~10 ns each on one core), > 0: 5e8 is about 5 s.
  // At the minimum order 6 that allows P ~ 40 sequences of 4 tokens for
  // embed_dim 2 with head_dim >= 2 (Q = 7), ~600 with head_dim 1.
  double max_evaluations = 5e8;
};

// NNGP and NTK over the rows of `points` (P x T D). Unimplemented naming
// architecture.attention.embed_dim where the rule would need more than 7
// dimensions (as AttentionKernel); ResourceExhausted naming points over
// max_evaluations; InvalidArgument for bad options.
absl::StatusOr<NtkKernels> AttentionNtk(
    const AttentionSpec& a, const Eigen::MatrixXd& points,
    const AttentionNtkOptions& options = {});

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_ATTENTION_NTK_H_
