// The NNGP kernel of the softmax attention layer (core/spec/spec.h
// AttentionSpec), exact at every head count N, by a deterministic quadrature.
//
// Heads are i.i.d. and the readout Wo ~ N(0, so^2/(N e)), b ~ N(0, sb^2) is
// Gaussian given the heads, so for ONE head o
//   G2(x, y) = sb^2 + so^2 E[(1/e) o(x).o(y)]
// at every N, and the field tends to the Gaussian process with this kernel as
// N -> infinity (G4_c = O(1/N): the infinite-heads limit at fixed head
// dimension e; Hron et al., "Infinite attention", arXiv 2006.10540, take
// e -> infinity too, where the logits become Gaussian; here they are not).
// Integrating Wv ~ N(0, sv^2/D) (independent of Wq, Wk):
//   G2 = sb^2 + (so^2 sv^2 / D) E[u(x).u(y)],  u(x) = sum_s A_x(t_out, s) x_s,
// u the attention-weighted mean token. The weights depend on Wq, Wk only
// through M = Wq Wk^T / sqrt(e) (logits x_{t_out}^T M x_s). With
// Wq = (sq/sqrt D) Zq, Wk = (sk/sqrt D) Zk and the LQ decomposition
// Zq = L Q (Q with orthonormal rows), Q Zk^T is again standard normal and
// independent of L (Zk is rotation invariant and independent of Zq):
//   M = c L G,  c = sq sk / (D sqrt(e)),  r = min(D, e),
// G (r x D) i.i.d. N(0, 1); L (D x r) lower trapezoidal with independent
// entries (Bartlett): L_ii ~ chi_{e-i} (i = 0..r-1), L_ij ~ N(0, 1) below the
// diagonal (all r entries of the rows i >= r when e < D: the Wishart Zq Zq^T
// is then singular, of rank e). The expectation is a tensor-product
// ("Gauss-chi") rule over the r(r+1)/2 + (D-r) r entries of L (chi:
// GaussChi, normal: Gauss-Hermite) and the r D entries of G (Gauss-Hermite):
// Q = 7 dimensions for D = 2 (4 when e = 1). E_G[f(L G)] is unchanged when a
// column of L and the matching row of G flip sign, and the Hermite rule is
// symmetric, so the inner sums are even in each L_ii: the chi rule, exact for
// polynomials in L_ii^2, converges fast.
//
// Cost: n^Q nodes (n per dimension) x P points x T tokens multiply-adds, no
// exponential per node: the logits are linear in G, so exp(logit) factorises
// over two halves of G's coordinates, each exponentiated once per (outer
// node, half node); plus P^2 D / 2 per node for the sum of u u^T.
#ifndef NNFT_CORE_THEORY_ATTENTION_KERNEL_H_
#define NNFT_CORE_THEORY_ATTENTION_KERNEL_H_

#include <cstdint>
#include <string>

#include "Eigen/Core"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/spec/spec.h"

namespace nnft::theory {

struct AttentionKernelOptions {
  // Nodes per quadrature dimension, in [2, 64]; 0: automatic, the largest
  // n <= 32 with n^Q <= 4e7 (12 for D = 2, e >= 2; 32 for Q <= 4).
  int order = 0;
  // OpenMP threads, >= 1; the kernel does not depend on it (the outer nodes
  // are summed in fixed blocks, in order).
  int threads = 1;
  // Most softmax evaluations (nodes x P x T) one call may do, > 0: about
  // 1e10 is ~10 s on one core.
  double max_evaluations = 1e10;

  absl::Status Validate() const;
};

// The quadrature for one spec and point count.
struct AttentionQuadrature {
  int dimensions = 0;      // Q
  int order = 0;           // n
  double nodes = 0;        // n^Q
  double evaluations = 0;  // n^Q P T
};

// Unimplemented (naming architecture.attention.embed_dim) when the rule would
// need more than 7 dimensions: supported are embed_dim <= 2 (any head_dim)
// and embed_dim = 3 with head_dim = 1. ResourceExhausted (naming points) when
// the evaluations exceed options.max_evaluations.
absl::StatusOr<AttentionQuadrature> PlanAttentionKernel(
    const AttentionSpec& a, int64_t num_points,
    const AttentionKernelOptions& options = {});

// K(x_i, x_j) over the rows of `points` (P x T D, a valid attention spec's
// input dimension): symmetric, exact at every head count up to the
// quadrature error. Errors as PlanAttentionKernel and for invalid options.
absl::StatusOr<Eigen::MatrixXd> AttentionKernel(
    const AttentionSpec& a, const Eigen::MatrixXd& points,
    const AttentionKernelOptions& options = {});

// A sentence for TheoryValues::method: the formula and the rule used at
// `num_points` points, or why there is no kernel.
std::string AttentionKernelMethod(const AttentionSpec& a, int64_t num_points);

}  // namespace nnft::theory

#endif  // NNFT_CORE_THEORY_ATTENTION_KERNEL_H_
