// Ensemble training for learning dynamics (Jacot et al. arXiv 1806.07572;
// Lee et al. arXiv 1902.06720): each network of the MLP ensemble is drawn
// from its own stream (seed, m), exactly in the law of the plain MLP, then
// trained on the spec's data by full-batch gradient descent or gradient flow
// in the NTK parameterisation (conventions in core/spec/spec.h TrainingSpec).
//
// The trainer writes one record per network, which the moment engine treats
// as the network's values at "virtual points": its sums of singletons and
// pairs over a chunk give E[f_t(x)], E[f_t(x) f_t(y)], E[L_t], E[L_t^2] (and
// the empirical NTK's first two moments), so the chunk store, resume,
// deduplication and bit-identity of the correlator engine carry over
// unchanged. Every chunk trains its networks through all requested times, so
// a streamed estimate sharpens at all times together.
//
// Per-network cost: one forward and one backward pass over the n training
// points per gradient evaluation (Eigen GEMMs, single-threaded; OpenMP runs
// over networks in the engine), four evaluations per flow step (three with
// FSAL reuse). Thread safety: a trainer owns scratch buffers; one per thread.
#ifndef NNFT_CORE_TRAIN_TRAIN_H_
#define NNFT_CORE_TRAIN_TRAIN_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "Eigen/Core"
#include "core/spec/spec.h"

namespace nnft {

// Layout of one network's record (T times, P test points):
//   [i (P + 1) + p] = f_{t_i}(x_p), p < P;  [i (P + 1) + P] = L(t_i);
//   with empirical_ntk, then [T (P + 1) + j] = Theta_emp(x_p, x_q) at
//   initialisation, j running over p <= q row by row (NtkIndex);
//   with loss_histogram (B bins), then per time i the B + 2 indicators
//   [HistogramSlot(i, s)] = 1 if L(t_i) falls in slot s (0: underflow,
//   1..B: the bins, B + 1: overflow), else 0.
struct TrainingLayout {
  int num_times = 0;
  int num_points = 0;
  bool ntk = false;
  int histogram_slots = 0;  // B + 2 with a loss histogram, else 0

  int Value(int time, int point) const {
    return time * (num_points + 1) + point;
  }
  int Loss(int time) const { return time * (num_points + 1) + num_points; }
  int NtkEntries() const { return ntk ? num_points * (num_points + 1) / 2 : 0; }
  int NtkIndex(int p, int q) const;  // p <= q
  int HistogramSlot(int time, int slot) const {
    return num_times * (num_points + 1) + NtkEntries() +
           time * histogram_slots + slot;
  }
  int size() const {
    return num_times * (num_points + 1 + histogram_slots) + NtkEntries();
  }
};

// Test points of a training spec (each recorded time is one P x P result
// piece).
inline constexpr int kMaxTrainingPoints = 64;

TrainingLayout MakeTrainingLayout(const ExperimentSpec& spec);

// Slot of loss L among the histogram `edges` (B + 1 ascending): 0 below
// edges[0], k + 1 in [edges[k], edges[k + 1]), B + 1 at or above edges[B] or
// not finite.
int LossHistogramSlot(const std::vector<double>& edges, double loss);

// The tuples the engine sums over the virtual points: per time, f(x_p),
// f(x_p) f(x_q) for p <= q, L and L^2; per empirical-NTK entry, it and its
// square; then per time the loss-histogram indicators (singletons). Their
// connected parts are Sigma_t and Var(L_t).
ObservableSpec TrainingObservables(const TrainingLayout& layout);

class NetworkTrainer {
 public:
  virtual ~NetworkTrainer() = default;

  // Draws network m, trains it and writes layout.size() values.
  virtual void Train(int64_t network, double* values) = 0;

  // Theta(x_p, x_q) = sum over trained parameters of df(x_p) df(x_q) of
  // network m at initialisation, at the rows of `points` (P x d).
  virtual Eigen::MatrixXd EmpiricalNtk(int64_t network,
                                       const Eigen::MatrixXd& points) = 0;

  // Gradient evaluations since construction (for benchmarks).
  virtual int64_t gradient_evaluations() const = 0;
};

// A trainer for a spec with `training` that passed Validate.
std::unique_ptr<NetworkTrainer> MakeNetworkTrainer(const ExperimentSpec& spec);

// The data set of the seed talk: x uniform in [-1, 1]^4 from the stream
// (seed, network 0, tag kTalkDataTag), y = exp(sin(x1^2 + x2^2) +
// sin(x3^2 + x4^2)). n rows.
inline constexpr uint32_t kTalkDataTag = 0x7A1C0000u;
void GenerateTalkData(int n, uint64_t seed, Eigen::MatrixXd* x,
                      Eigen::VectorXd* y);

}  // namespace nnft

#endif  // NNFT_CORE_TRAIN_TRAIN_H_
