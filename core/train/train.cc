// The network trainer (core/train/train.h).
//
// Parameters of network m live in one flat vector, layer by layer:
// omega^(l) (n_{l+1} x n_l, column-major; stream tag 2l, as the MLP sampler
// of core/sampling/network.h), then beta^(l) (tag 2l + 1) when sb[l] > 0. The
// layer map is z^(l+1) = a_l omega^(l) h^(l) + s_l beta^(l), a_l =
// sw[l]/sqrt(n_l), s_l = sb[l] (NTK parameterisation, arXiv 1806.07572), h^(0)
// = x. Gradients of L = (1/2) sum_i (f(x_i) - y_i)^2 by backpropagation:
//   delta^(L) = f - y,  dL/domega^(l) = a_l delta^(l) h^(l)T,
//   dL/dbeta^(l) = s_l sum_i delta^(l)_i,
//   delta^(l-1) = (a_l omega^(l)T delta^(l)) * act'(z^(l)).
// With last_layer_only only the output layer (the tail of the vector) moves,
// and the hidden features of the training and test points are computed once.
//
// Eigen's GEMM is used single-threaded (EIGEN_DONT_PARALLELIZE below); its
// blocking depends only on the matrix sizes, so a network's bits depend only
// on (spec, seed, m).
#define EIGEN_DONT_PARALLELIZE
#include "core/train/train.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <variant>
#include <vector>

#include "Eigen/Core"
#include "core/sampling/rng.h"
#include "core/sampling/vector_math.h"

namespace nnft {
namespace {

template <typename T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

template <typename T>
using AlignedVector = std::vector<T, Eigen::aligned_allocator<T>>;

template <typename T>
void Activate(Activation a, const Mat<T>& z, Mat<T>& h) {
  h.resize(z.rows(), z.cols());
  const T* in = z.data();
  T* out = h.data();
  const int64_t n = z.size();
  using namespace vmath;
#define NNFT_ACT_LOOP(expr)                             \
  _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) { \
    const T u = in[i];                                  \
    out[i] = (expr);                                    \
  }                                                     \
  return;
  switch (a) {
    case Activation::kIdentity:
      NNFT_ACT_LOOP(u)
    case Activation::kRelu:
      NNFT_ACT_LOOP(Relu(u))
    case Activation::kErf:
      NNFT_ACT_LOOP(Erf(u))
    case Activation::kTanh:
      NNFT_ACT_LOOP(Tanh(u))
    case Activation::kSigmoid:
      NNFT_ACT_LOOP(Sigmoid(u))
    case Activation::kGelu:
      NNFT_ACT_LOOP(Gelu(u))
    case Activation::kSoftplus:
      NNFT_ACT_LOOP(Softplus(u))
    case Activation::kSin:
      NNFT_ACT_LOOP(Sin(u))
    case Activation::kCos:
      NNFT_ACT_LOOP(Cos(u))
  }
}

// g *= act'(z), elementwise.
template <typename T>
void MultiplyDerivative(Activation a, const Mat<T>& z, Mat<T>& g) {
  const T* in = z.data();
  T* out = g.data();
  const int64_t n = z.size();
  using namespace vmath;
  constexpr T kTwoOverSqrtPi = T(2) * std::numbers::inv_sqrtpi_v<T>;
  constexpr T kInvSqrt2Pi =
      T(0.5) * std::numbers::inv_sqrtpi_v<T> * std::numbers::sqrt2_v<T>;
#define NNFT_DER_LOOP(expr)                             \
  _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) { \
    const T u = in[i];                                  \
    out[i] *= (expr);                                   \
  }                                                     \
  return;
  switch (a) {
    case Activation::kIdentity:
      return;
    case Activation::kRelu:
      NNFT_DER_LOOP(u > T(0) ? T(1) : T(0))
    case Activation::kErf:
      NNFT_DER_LOOP(kTwoOverSqrtPi * Exp(-u * u))
    case Activation::kTanh:
      NNFT_DER_LOOP(T(1) - Tanh(u) * Tanh(u))
    case Activation::kSigmoid:
      NNFT_DER_LOOP(Sigmoid(u) * (T(1) - Sigmoid(u)))
    case Activation::kGelu:
      NNFT_DER_LOOP(NormalCdf(u) + u * kInvSqrt2Pi * Exp(T(-0.5) * u * u))
    case Activation::kSoftplus:
      NNFT_DER_LOOP(Sigmoid(u))
    case Activation::kSin:
      NNFT_DER_LOOP(Cos(u))
    case Activation::kCos:
      NNFT_DER_LOOP(-Sin(u))
  }
}
#undef NNFT_ACT_LOOP
#undef NNFT_DER_LOOP

// Activations of one batch of inputs (columns): z[l] pre-activations of
// hidden layer l + 1, h[l] = act(z[l - 1]) with h[0] = x, f the outputs.
template <typename T>
struct Batch {
  std::vector<Mat<T>> z, h;
  Mat<T> f;
};

template <typename T>
class Trainer final : public NetworkTrainer {
 public:
  explicit Trainer(const ExperimentSpec& spec);
  void Train(int64_t m, double* values) override;
  Eigen::MatrixXd EmpiricalNtk(int64_t m,
                               const Eigen::MatrixXd& points) override;
  int64_t gradient_evaluations() const override { return evaluations_; }

 private:
  void Init(int64_t m);
  // Outputs of `b` at parameters p; hidden layers reused when frozen.
  void Forward(const T* p, Batch<T>& b, bool hidden_fixed);
  // dL/dp over the trained range into grad (size num_params_) for residual r
  // (1 x B) of batch b; returns nothing (the loss is r's half square norm).
  void Backward(const T* p, Batch<T>& b, const Mat<T>& r, T* grad);
  // Gradient of the training loss at p into grad.
  void LossGradient(const T* p, T* grad);
  double TrainLoss(const T* p);
  void Record(int time, double* values);
  void GradientDescent(double* values);
  void GradientFlow(double* values);
  // y += c * x over the trained range.
  void Axpy(T c, const T* x, T* y) const {
#pragma omp simd
    for (int64_t i = first_trained_; i < num_params_; ++i) y[i] += c * x[i];
  }
  // out = p + c0 x0 (+ c1 x1 + c2 x2) over the trained range, added left to
  // right, so the bits are those of a copy followed by Axpy calls; one pass
  // over memory instead of one per term (at two hidden layers of width 1024
  // each vector is 8 MB, far outside cache, and these passes dominated).
  void Stage(const T* p, T c0, const T* x0, T* out) const {
#pragma omp simd
    for (int64_t i = first_trained_; i < num_params_; ++i) {
      out[i] = p[i] + c0 * x0[i];
    }
  }
  void Stage(const T* p, T c0, const T* x0, T c1, const T* x1, T c2,
             const T* x2, T* out) const {
#pragma omp simd
    for (int64_t i = first_trained_; i < num_params_; ++i) {
      T v = p[i] + c0 * x0[i];
      v += c1 * x1[i];
      out[i] = v + c2 * x2[i];
    }
  }

  ExperimentSpec spec_;
  TrainingSpec training_;
  TrainingLayout layout_;
  std::vector<double> histogram_edges_;  // loss histogram edges, or empty
  Activation act_;
  int depth_;                           // hidden layers L
  std::vector<int> n_;                  // n_0 = d, .., n_L, n_{L+1} = 1
  std::vector<T> a_, s_;                // per layer l = 0..L
  std::vector<int64_t> w_off_, b_off_;  // b_off_ = -1 without bias
  int64_t num_params_ = 0, first_trained_ = 0;
  Mat<T> y_;  // 1 x n targets
  Batch<T> train_, test_;
  // 64-byte aligned: Eigen's kernels peel to alignment, so with the heap's
  // 16-byte alignment the summation order (and the bits) of a product over
  // a mapped slice varied with where the allocator put the vector, between
  // runs and thread counts.
  AlignedVector<T> params_, grad_, scratch_, k_[4];
  int64_t evaluations_ = 0;
  uint64_t seed_;
};

template <typename T>
Trainer<T>::Trainer(const ExperimentSpec& spec)
    : spec_(spec),
      training_(*spec.training),
      layout_(MakeTrainingLayout(spec)),
      seed_(spec.sampling.seed) {
  if (training_.loss_histogram) {
    histogram_edges_ = training_.loss_histogram->Edges();
  }
  const MlpSpec& mlp = std::get<MlpSpec>(spec.architecture);
  act_ = mlp.activation;
  depth_ = static_cast<int>(mlp.widths.size());
  n_ = {mlp.input_dim};
  for (int w : mlp.widths) n_.push_back(w);
  n_.push_back(1);
  int64_t max_group = 0;
  for (int l = 0; l <= depth_; ++l) {
    a_.push_back(static_cast<T>(mlp.sw[l] / std::sqrt(double(n_[l]))));
    s_.push_back(static_cast<T>(mlp.sb[l]));
    if (l == depth_)
      first_trained_ = training_.last_layer_only ? num_params_ : 0;
    w_off_.push_back(num_params_);
    num_params_ += int64_t{n_[l + 1]} * n_[l];
    max_group = std::max(max_group, int64_t{n_[l + 1]} * n_[l]);
    b_off_.push_back(mlp.sb[l] > 0 ? num_params_ : -1);
    if (mlp.sb[l] > 0) num_params_ += n_[l + 1];
  }
  params_.resize(num_params_);
  grad_.resize(num_params_);
  scratch_.resize(StreamPadded<T>(max_group));
  train_.h = {training_.x.transpose().cast<T>()};
  test_.h = {spec.points.transpose().cast<T>()};
  y_ = training_.y.transpose().cast<T>();
}

template <typename T>
void Trainer<T>::Init(int64_t m) {
  for (int l = 0; l <= depth_; ++l) {
    const int64_t count = int64_t{n_[l + 1]} * n_[l];
    const auto id = [&](uint32_t tag) {
      return StreamId{
          .seed = seed_, .network = static_cast<uint64_t>(m), .tag = tag};
    };
    FillNormals(id(2 * l), count, T(1), scratch_.data());
    std::copy_n(scratch_.data(), count, params_.data() + w_off_[l]);
    if (b_off_[l] >= 0) {
      FillNormals(id(2 * l + 1), n_[l + 1], T(1), scratch_.data());
      std::copy_n(scratch_.data(), n_[l + 1], params_.data() + b_off_[l]);
    }
  }
}

template <typename T>
void Trainer<T>::Forward(const T* p, Batch<T>& b, bool hidden_fixed) {
  b.z.resize(depth_);
  b.h.resize(depth_ + 1);
  const int first = hidden_fixed ? depth_ : 0;
  for (int l = first; l <= depth_; ++l) {
    Eigen::Map<const Mat<T>> w(p + w_off_[l], n_[l + 1], n_[l]);
    Mat<T>& z = l < depth_ ? b.z[l] : b.f;
    z.noalias() = w * b.h[l];
    z *= a_[l];
    if (b_off_[l] >= 0) {
      Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>> beta(p + b_off_[l],
                                                                 n_[l + 1]);
      z.colwise() += s_[l] * beta;
    }
    if (l < depth_) Activate(act_, z, b.h[l + 1]);
  }
}

template <typename T>
void Trainer<T>::Backward(const T* p, Batch<T>& b, const Mat<T>& r, T* grad) {
  Mat<T> delta = r, g;
  for (int l = depth_;; --l) {
    Eigen::Map<Mat<T>> gw(grad + w_off_[l], n_[l + 1], n_[l]);
    gw.noalias() = delta * b.h[l].transpose();
    gw *= a_[l];
    if (b_off_[l] >= 0) {
      Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>> gb(grad + b_off_[l],
                                                         n_[l + 1]);
      gb = s_[l] * delta.rowwise().sum();
    }
    if (l == 0 || w_off_[l] <= first_trained_) break;
    Eigen::Map<const Mat<T>> w(p + w_off_[l], n_[l + 1], n_[l]);
    g.noalias() = w.transpose() * delta;
    g *= a_[l];
    MultiplyDerivative(act_, b.z[l - 1], g);
    delta.swap(g);
  }
}

template <typename T>
void Trainer<T>::LossGradient(const T* p, T* grad) {
  ++evaluations_;
  Forward(p, train_, training_.last_layer_only);
  const Mat<T> r = train_.f - y_;
  Backward(p, train_, r, grad);
}

template <typename T>
double Trainer<T>::TrainLoss(const T* p) {
  Forward(p, train_, training_.last_layer_only);
  double loss = 0;
  for (Eigen::Index i = 0; i < y_.cols(); ++i) {
    const double e = double(train_.f(0, i)) - double(y_(0, i));
    loss += e * e;
  }
  return 0.5 * loss;
}

template <typename T>
void Trainer<T>::Record(int time, double* values) {
  Forward(params_.data(), test_, training_.last_layer_only);
  for (int p = 0; p < layout_.num_points; ++p) {
    values[layout_.Value(time, p)] = static_cast<double>(test_.f(0, p));
  }
  const double loss = TrainLoss(params_.data());
  values[layout_.Loss(time)] = loss;
  if (layout_.histogram_slots > 0) {
    const int slot = LossHistogramSlot(histogram_edges_, loss);
    for (int s = 0; s < layout_.histogram_slots; ++s) {
      values[layout_.HistogramSlot(time, s)] = s == slot ? 1.0 : 0.0;
    }
  }
}

template <typename T>
void Trainer<T>::GradientDescent(double* values) {
  const T eta = static_cast<T>(training_.eta);
  int64_t step = 0;
  for (int i = 0; i < layout_.num_times; ++i) {
    const int64_t target = std::llround(training_.times[i] / training_.eta);
    for (; step < target; ++step) {
      LossGradient(params_.data(), grad_.data());
      Axpy(-eta, grad_.data(), params_.data());
    }
    Record(i, values);
  }
}

// Bogacki-Shampine 3(2) with first-same-as-last (Bogacki & Shampine, Appl.
// Math. Lett. 2 (1989) 321) on domega/dt = -grad L. A step is accepted when
// the RMS over trained parameters of err_i / (tol (1 + max |omega_i|)) is
// <= 1; the next step is h * clamp(0.9 err^(-1/3), 0.2, 5). Steps end exactly
// on the recording times.
template <typename T>
void Trainer<T>::GradientFlow(double* values) {
  const double tol = training_.tolerance;
  for (auto& k : k_) k.resize(num_params_);
  AlignedVector<T> trial(params_), y3(params_);
  double t = 0, h = 1e-2;
  LossGradient(params_.data(), k_[0].data());  // k holds +grad
  const int64_t count = num_params_ - first_trained_;
  for (int i = 0; i < layout_.num_times; ++i) {
    const double end = training_.times[i];
    while (t < end) {
      const double step = std::min(h, end - t);
      const T hs = static_cast<T>(step);
      // The frozen head of trial and y3 (last_layer_only) equals params_'s
      // from the start and never changes.
      const T* p = params_.data();
      Stage(p, -hs / 2, k_[0].data(), trial.data());
      LossGradient(trial.data(), k_[1].data());
      Stage(p, -hs * 3 / 4, k_[1].data(), trial.data());
      LossGradient(trial.data(), k_[2].data());
      Stage(p, -hs * 2 / 9, k_[0].data(), -hs / 3, k_[1].data(), -hs * 4 / 9,
            k_[2].data(), y3.data());
      LossGradient(y3.data(), k_[3].data());
      double err2 = 0;
      for (int64_t j = first_trained_; j < num_params_; ++j) {
        const double e = -step * (-5.0 / 72 * k_[0][j] + 1.0 / 12 * k_[1][j] +
                                  1.0 / 9 * k_[2][j] - 1.0 / 8 * k_[3][j]);
        const double scale = tol * (1 + std::max(std::abs(double(params_[j])),
                                                 std::abs(double(y3[j]))));
        err2 += (e / scale) * (e / scale);
      }
      const double err = std::sqrt(err2 / double(count));
      if (err <= 1 || step < 1e-12 * std::max(1.0, end)) {
        t = step == end - t ? end : t + step;
        params_.swap(y3);
        k_[0].swap(k_[3]);
      }
      h = step *
          std::clamp(0.9 * std::pow(std::max(err, 1e-12), -1.0 / 3), 0.2, 5.0);
    }
    Record(i, values);
  }
}

template <typename T>
void Trainer<T>::Train(int64_t m, double* values) {
  if (layout_.ntk) {
    const Eigen::MatrixXd theta = EmpiricalNtk(m, spec_.points);
    for (int p = 0; p < layout_.num_points; ++p) {
      for (int q = p; q < layout_.num_points; ++q) {
        values[layout_.NtkIndex(p, q)] = theta(p, q);
      }
    }
  }
  Init(m);
  if (training_.last_layer_only) {  // hidden features once per network
    Forward(params_.data(), train_, false);
    Forward(params_.data(), test_, false);
  }
  if (training_.method == TrainingMethod::kGradientDescent) {
    GradientDescent(values);
  } else {
    GradientFlow(values);
  }
}

template <typename T>
Eigen::MatrixXd Trainer<T>::EmpiricalNtk(int64_t m,
                                         const Eigen::MatrixXd& points) {
  Init(m);
  Batch<T> batch;
  batch.h = {points.transpose().cast<T>()};
  Forward(params_.data(), batch, false);
  const int num = static_cast<int>(points.rows());
  const int64_t count = num_params_ - first_trained_;
  Mat<T> jac(count, num);
  Mat<T> unit = Mat<T>::Zero(1, num);
  for (int p = 0; p < num; ++p) {
    unit.setZero();
    unit(0, p) = T(1);
    std::fill(grad_.begin(), grad_.end(), T(0));
    Backward(params_.data(), batch, unit, grad_.data());
    std::copy_n(grad_.data() + first_trained_, count, jac.col(p).data());
  }
  return (jac.transpose() * jac).template cast<double>();
}

}  // namespace

std::unique_ptr<NetworkTrainer> MakeNetworkTrainer(const ExperimentSpec& spec) {
  if (spec.sampling.precision == Precision::kFloat32) {
    return std::make_unique<Trainer<float>>(spec);
  }
  return std::make_unique<Trainer<double>>(spec);
}

}  // namespace nnft
