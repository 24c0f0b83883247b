// A diagnostic from theory, not from the bins: does the sample reach the
// draws that set an estimator's variance?
//
// A Gauss-net's hidden units are log-normal: exp(Y) with Y = W0.x + b0
// Gaussian. An n-point moment averages products of n units of one neuron,
// exp(Y_n) with Y_n = sum_k (W0.x_k + b0) of variance
//   s_n^2 = n^2 sb0^2 + (sw0^2 / d) |sum_k x'_k|^2
// (x' the points scaled by sw0_axes; the sb0 term is gone when the
// first-layer biases are integrated out). The estimator's variance,
// E[exp(2 Y_n)], is dominated by draws 2 s_n standard deviations out, which
// a neuron reaches with probability Q(2 s_n) (the normal upper tail). When
// the M networks' M N neurons have not drawn one (M N Q(2 s_n) < 1), the bin
// means cannot show the tail: the standard error is underestimated and the
// mean biased low, however Gaussian the bins look. Such entries are marked
// HEAVY_TAILED with the numbers in the reason.
//
// Every architecture, plain sampling: near the Gaussian (large-width) limit
// one network's contribution to a connected part of even order n is the
// Wick product :phi_1 ... phi_n:, whose skewness grows fast with n (89 for
// n = 6 at one point, against 15 for n = 4; WickProductSkewness). Over M
// networks the estimate's skewness is that over sqrt(M), and Student-t
// intervals lose about 0.247 gamma^2 of their 95% coverage; past
// kMaxSkewCoverageLoss the entry is HEAVY_TAILED. Most such samples have not
// drawn the networks far out in the skewed tail, so their bins look Gaussian
// and only this prediction sees it. Not with integrate_output_layer (each
// network contributes Gaussian moments given its hidden layer) nor for
// reweighted runs.
//
// Cost O(entries x order x d).
#ifndef NNFT_CORE_ESTIMATE_TAIL_REACH_H_
#define NNFT_CORE_ESTIMATE_TAIL_REACH_H_

#include "core/estimate/estimate.h"
#include "core/spec/spec.h"

namespace nnft {

// The standard-normal deviation 2 s_n that dominates the variance of the
// moment of `tuple` (slot indices s = p * output_dim + c, p indexing
// spec.points) of a Gauss-net spec; 0 for other architectures.
double GaussNetVarianceDeviation(const ExperimentSpec& spec,
                                 const Tuple& tuple);

// Marks the entries of `est` (from `spec` in its engine form: est.tuples
// index its slots) HEAVY_TAILED whose dominating draws est.networks networks
// have not reached (Gauss-nets) or whose connected part's estimator is
// predicted too skewed (plain sampling), entries with verdict OK or FEW_BINS
// only, then applies FlagSiblingsOfHeavyTails.
void FlagUnreachedTails(const ExperimentSpec& spec, CorrelatorEstimate& est);

}  // namespace nnft

#endif  // NNFT_CORE_ESTIMATE_TAIL_REACH_H_
