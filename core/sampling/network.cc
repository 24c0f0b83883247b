// Network sampling and evaluation; see network.h for the stream layout.
// Matrix products are written out here rather than left to Eigen's GEMM:
// Eigen picks its blocking (and so its summation order) from the thread
// count it sees, and another translation unit's instantiation with Eigen's
// threading on could be linked in; the engine's bits must not depend on
// either. Eigen is used for storage only.
#include "core/sampling/network.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>
#include <optional>
#include <variant>
#include <vector>

#include "Eigen/Core"
#include "core/analyses/null_cone.h"
#include "core/sampling/arch_features.h"
#include "core/sampling/box.h"
#include "core/sampling/layer_ops.h"
#include "core/sampling/radial.h"
#include "core/sampling/rng.h"
#include "core/sampling/vector_math.h"

namespace nnft {
namespace {

// Stream tag of the deformed layer l's radial uniform: kRadialTag + l.
constexpr uint32_t kRadialTag = 0x4900;

// Everything a sampler needs, per architecture, in precision T.
template <typename T>
class Sampler final : public NetworkSampler {
 public:
  explicit Sampler(const ExperimentSpec& spec);

  void Evaluate(int64_t network, double* phi) override;
  double Phi4Integral() override;
  void ConditionalCovariance(int64_t network, double* cov) override;
  void BiasFreeFeatures(int64_t network, double* g) override;

 private:
  // Fills h_ (final hidden layer, width x P) for network m.
  void Hidden(int64_t m);
  void MlpFirstLayer(int64_t m);
  void MlpDeepLayer(int64_t m, int l);
  void CosNetHidden(int64_t m);
  // Box cos-net: b_i uniform over the lattice momenta (mode_ holds the index).
  void BoxMomenta(int64_t m);
  // Rescales w_[0..count) (drawn Gaussian) to the deformed law of layer l:
  // the direction kept, |sqrt(fan_in) w| = r from the radial law.
  void Deform(int64_t m, int l, int64_t count, int fan_in);
  // OU-net: network m's Ornstein-Uhlenbeck path at the times into x_, xt_.
  void DrawPath(int64_t m);
  // z(i, p) = bias_i - offset_p + sum_k w(i, k) x(p, k) into h_, x the
  // points (P x d, and its transpose xt) or, for g(Wx), their projections.
  void Affine(const Matrix<T>& x, const Matrix<T>& xt, const T* w,
              const T* bias, int width);
  // g(Wx): xp_ = x W^T (P x k), xpt_ its transpose, W ~ N(0, s^2 / d).
  void Project(int64_t m);

  StreamId Stream(int64_t m, uint32_t tag) const {
    return StreamId{
        .seed = seed_, .network = static_cast<uint64_t>(m), .tag = tag};
  }

  uint64_t seed_;
  int num_points_;
  int output_dim_ = 1;
  std::vector<double> output_mean_;  // empty: all 0
  int input_dim_;
  bool cos_net_ = false;
  bool gauss_net_ = false;
  bool bias_free_ = false;  // set only inside BiasFreeFeatures
  bool ou_net_ = false;
  OuNetSpec ou_;
  std::vector<int> time_order_;  // OU-net: point indices by ascending time
  std::vector<double> path_;     // OU-net: normals, then the path
  MlpSpec mlp_;  // MLP or Gauss-net (as a one-layer MLP with exp)
  CosNetSpec cos_;
  std::vector<int> widths_;    // n_0 = d, n_1 .. n_L
  Eigen::VectorXd times_;      // OU-net: the points' times
  Matrix<T> x_;                // P x d
  Matrix<T> xt_;               // d x P
  std::vector<T> offset_;      // Gauss-net normalisation per point
  T out_weight_scale_ = 0;     // std of each output weight
  T out_bias_scale_ = 0;       // std of the output bias
  double out_weight_var_ = 0;  // its variance, for the covariance
  double out_bias_var_ = 0;
  uint32_t out_tag_ = 0;       // output weights
  uint32_t out_bias_tag_ = 0;  // output bias (out_tag_ + 1 for the MLPs)
  std::vector<T> w_, b_, aux_, aux2_;
  Matrix<T> h_, z_;
  // Conv1d, attention and KAN (arch_features.h); null otherwise.
  std::unique_ptr<FeatureMap<T>> features_;
  Matrix<T> zres_;      // residual MLP: the pre-activation z^(l)
  Matrix<T> xp_, xpt_;  // g(Wx): the projected points
  // Deformation (core/sampling/radial.h) of layer deformed_layer_ (-1: none).
  int deformed_layer_ = -1;
  std::optional<RadialLaw> radial_;
  // Box cos-net: the lattice, each neuron's momentum index, and the phi^4
  // scratch (mode amplitudes, trig tables, grid values).
  std::optional<BoxLattice> lattice_;
  std::vector<int> mode_;
  std::vector<double> mode_c_, mode_s_, cos_table_, sin_table_, grid_phi_;
};

template <typename T>
Sampler<T>::Sampler(const ExperimentSpec& spec)
    : seed_(spec.sampling.seed),
      num_points_(static_cast<int>(spec.points.rows())),
      input_dim_(static_cast<int>(spec.points.cols())) {
  output_dim_ = OutputDim(spec.architecture);
  // Anisotropic first layer: W0_ik scaled by axes_k is the isotropic net at
  // x'_k = axes_k x_k (core/spec/spec.h).
  Eigen::MatrixXd points = spec.points;
  const std::vector<double>* axes = nullptr;
  if (const auto* a = std::get_if<MlpSpec>(&spec.architecture)) {
    axes = &a->field.sw0_axes;
    output_mean_ = a->field.output_mean;
  } else if (const auto* g = std::get_if<GaussNetSpec>(&spec.architecture)) {
    axes = &g->field.sw0_axes;
    output_mean_ = g->field.output_mean;
  }
  if (axes != nullptr && !axes->empty()) {
    for (int k = 0; k < input_dim_; ++k) points.col(k) *= (*axes)[k];
  }
  x_ = points.cast<T>();
  xt_ = x_.transpose();
  int64_t max_w = 0, max_b = 0;
  features_ = MakeFeatureMap<T>(spec);
  if (features_) {
    const Readout& r = features_->readout();
    out_weight_var_ = r.weight_var;
    out_bias_var_ = r.bias_var;
    out_tag_ = r.weight_tag;
    out_bias_tag_ = r.bias_tag;
    max_w = r.features;
    max_b = 1;
  } else if (const auto* cos = std::get_if<CosNetSpec>(&spec.architecture)) {
    cos_net_ = true;
    cos_ = *cos;
    widths_ = {input_dim_, cos->width};
    const int d = input_dim_;
    const double vol =
        d == 1   ? 2 * cos->cutoff
        : d == 2 ? std::numbers::pi * cos->cutoff * cos->cutoff
                 : 4.0 / 3 * std::numbers::pi * std::pow(cos->cutoff, 3);
    double a2 = 2 * vol / std::pow(2 * std::numbers::pi, d) / cos->width;
    if (cos->box_side > 0) {
      // Validate has checked the lattice; M / L^d replaces vol / (2 pi)^d.
      lattice_ = *MakeBoxLattice(d, cos->box_side, cos->cutoff);
      const double m = static_cast<double>(lattice_->k.size());
      a2 = 2 * m / std::pow(cos->box_side, d) / cos->width;
      mode_.resize(cos->width);
      cos_table_ = TrigTable(lattice_->grid, 0);
      sin_table_ = TrigTable(lattice_->grid, 1);
    }
    out_weight_var_ = a2;
    out_tag_ = 3;
    max_w = int64_t{cos->width} * d;
    max_b = cos->width;
  } else {
    if (const auto* g = std::get_if<GaussNetSpec>(&spec.architecture)) {
      gauss_net_ = true;
      mlp_ = MlpSpec{.input_dim = g->input_dim,
                     .widths = {g->width},
                     .activation = Activation::kIdentity,
                     .sw = {g->sw0, g->sw1},
                     .sb = {g->sb0, g->sb1}};
      offset_.resize(num_points_);
      for (int p = 0; p < num_points_; ++p) {
        offset_[p] = static_cast<T>(
            g->sb0 * g->sb0 +
            g->sw0 * g->sw0 * points.row(p).squaredNorm() / g->input_dim);
      }
    } else if (const auto* ou = std::get_if<OuNetSpec>(&spec.architecture)) {
      ou_net_ = true;
      ou_ = *ou;
      mlp_ = ou->mlp;
      time_order_.resize(num_points_);
      for (int p = 0; p < num_points_; ++p) time_order_[p] = p;
      std::stable_sort(
          time_order_.begin(), time_order_.end(),
          [&](int a, int b) { return spec.points(a, 0) < spec.points(b, 0); });
      path_.resize(StreamPadded<double>(num_points_));
      times_ = spec.points.col(0);
    } else {
      mlp_ = std::get<MlpSpec>(spec.architecture);
    }
    const int k = mlp_.input_projection_dim;
    widths_ = {k > 0 ? k : input_dim_};
    for (int n : mlp_.widths) widths_.push_back(n);
    if (k > 0) max_w = int64_t{k} * input_dim_;
    const int depth = static_cast<int>(mlp_.widths.size());
    for (int l = 0; l < depth; ++l) {
      max_w = std::max(max_w, int64_t{widths_[l]} * widths_[l + 1]);
      max_b = std::max<int64_t>(max_b, widths_[l + 1]);
    }
    if (mlp_.deformation.has_value()) {
      const Deformation& def = *mlp_.deformation;
      deformed_layer_ = def.layer < 0 ? depth : def.layer;
      const int l = deformed_layer_;
      const int64_t count =
          int64_t{l < depth ? widths_[l + 1] : 1} * widths_[l];
      radial_.emplace(count, def.s, def.lambda);
    }
    const double sw = mlp_.sw[depth], sb = mlp_.sb[depth];
    out_weight_var_ = sw * sw / widths_[depth];
    out_bias_var_ = sb * sb;
    out_tag_ = static_cast<uint32_t>(2 * depth);
    out_bias_tag_ = out_tag_ + 1;
  }
  out_weight_scale_ = static_cast<T>(std::sqrt(out_weight_var_));
  out_bias_scale_ = static_cast<T>(std::sqrt(out_bias_var_));
  const int64_t out_w = features_ ? 0 : int64_t{output_dim_} * widths_.back();
  w_.resize(StreamPadded<T>(std::max({max_w, max_b, out_w})));
  b_.resize(StreamPadded<T>(std::max<int64_t>(max_b, output_dim_)) +
            kGroupSize<T>);
  aux_.resize(StreamPadded<T>(max_b));
  aux2_.resize(StreamPadded<T>(max_b));
}

template <typename T>
void Sampler<T>::Affine(const Matrix<T>& x, const Matrix<T>& xt, const T* w,
                        const T* bias, int width) {
  const int d = static_cast<int>(x.cols());
  h_.resize(width, num_points_);
  if (d > 16) {
    MatMul(w, width, d, xt, h_);
  }
  for (int p = 0; p < num_points_; ++p) {
    T* z = h_.col(p).data();
    const T off = offset_.empty() ? T(0) : offset_[p];
    if (d > 16) {
#pragma omp simd
      for (int i = 0; i < width; ++i) z[i] = z[i] + (bias[i] - off);
      continue;
    }
#pragma omp simd
    for (int i = 0; i < width; ++i) z[i] = bias[i] - off;
    for (int k = 0; k < d; ++k) {
      const T xk = x(p, k);
      const T* wk = w + int64_t{width} * k;
#pragma omp simd
      for (int i = 0; i < width; ++i) z[i] = std::fma(wk[i], xk, z[i]);
    }
  }
}

// Stream tag of the g(Wx) projection W (the MLP's own tags are 0..2L+1;
// the OU-net's path uses 1000).
constexpr uint32_t kProjectionTag = 1001;

template <typename T>
void Sampler<T>::Project(int64_t m) {
  const int d = input_dim_, k = mlp_.input_projection_dim;
  FillNormals(
      Stream(m, kProjectionTag), int64_t{k} * d,
      static_cast<T>(mlp_.input_projection_scale / std::sqrt(double(d))),
      w_.data());
  MatMul(w_.data(), k, d, xt_, xpt_);
  xp_ = xpt_.transpose();
}

template <typename T>
void Sampler<T>::MlpFirstLayer(int64_t m) {
  const bool projected = mlp_.input_projection_dim > 0;
  if (projected) Project(m);
  const Matrix<T>& x = projected ? xp_ : x_;
  const Matrix<T>& xt = projected ? xpt_ : xt_;
  const int d = static_cast<int>(x.cols()), n = widths_[1];
  FillNormals(Stream(m, 0), int64_t{n} * d,
              static_cast<T>(mlp_.sw[0] / std::sqrt(double(d))), w_.data());
  if (deformed_layer_ == 0) Deform(m, 0, int64_t{n} * d, d);
  if (mlp_.first_bias == BiasLaw::kUniformPhase) {
    FillUniforms(Stream(m, 1), n, b_.data());
    constexpr T kPi = std::numbers::pi_v<T>;
#pragma omp simd
    for (int i = 0; i < n; ++i) b_[i] = kPi * (T(2) * b_[i] - T(1));
  } else if (mlp_.sb[0] > 0 && !bias_free_) {
    FillNormals(Stream(m, 1), n, static_cast<T>(mlp_.sb[0]), b_.data());
  } else {
    std::fill(b_.begin(), b_.begin() + n, T(0));
  }
  Affine(x, xt, w_.data(), b_.data(), n);
  if (mlp_.residual) zres_ = h_;
  if (gauss_net_) {
    T* z = h_.data();
    const int64_t size = h_.size();
#pragma omp simd
    for (int64_t i = 0; i < size; ++i) z[i] = vmath::Exp(z[i]);
  } else {
    ApplyActivation(mlp_.activation, h_.data(), h_.size());
  }
}

template <typename T>
void Sampler<T>::MlpDeepLayer(int64_t m, int l) {
  const int n_in = widths_[l], n_out = widths_[l + 1];
  const uint32_t tag = static_cast<uint32_t>(2 * l);
  FillNormals(Stream(m, tag), int64_t{n_out} * n_in,
              static_cast<T>(mlp_.sw[l] / std::sqrt(double(n_in))), w_.data());
  if (deformed_layer_ == l) Deform(m, l, int64_t{n_out} * n_in, n_in);
  z_.resize(n_out, num_points_);
  MatMul(w_.data(), n_out, n_in, h_, z_);
  if (mlp_.sb[l] > 0) {
    FillNormals(Stream(m, tag + 1), n_out, static_cast<T>(mlp_.sb[l]),
                b_.data());
    z_.colwise() +=
        Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(b_.data(), n_out);
  }
  if (mlp_.residual) {  // z^(l+1) = z^(l) + b + W act(z^(l))
    z_ += zres_;
    zres_ = z_;
  }
  h_.swap(z_);
  ApplyActivation(mlp_.activation, h_.data(), h_.size());
}

template <typename T>
void Sampler<T>::Deform(int64_t m, int l, int64_t count, int fan_in) {
  double norm2 = 0;
  for (int64_t i = 0; i < count; ++i) norm2 += double(w_[i]) * double(w_[i]);
  double u[kGroupSize<double>];
  FillUniforms(Stream(m, kRadialTag + static_cast<uint32_t>(l)), 1, u);
  const double r = radial_->Sample(u[0]);
  const T f = static_cast<T>(r / std::sqrt(norm2 * fan_in));
#pragma omp simd
  for (int64_t i = 0; i < count; ++i) w_[i] *= f;
}

template <typename T>
void Sampler<T>::BoxMomenta(int64_t m) {
  const int d = input_dim_, n = cos_.width;
  const int num_modes = static_cast<int>(lattice_->k.size());
  const double unit = 2 * std::numbers::pi / lattice_->side;
  const double mass2 = cos_.mass * cos_.mass;
  FillUniforms(Stream(m, 1), n, aux_.data());
  FillUniforms(Stream(m, 2), n, b_.data());
  constexpr T kPi = std::numbers::pi_v<T>;
  for (int i = 0; i < n; ++i) {
    const int j =
        std::min(num_modes - 1, static_cast<int>(double(aux_[i]) * num_modes));
    mode_[i] = j;
    double p2 = 0;
    for (int k = 0; k < d; ++k) {
      const double p = unit * lattice_->k[j][k];
      w_[i + int64_t{n} * k] = static_cast<T>(p);
      p2 += p * p;
    }
    aux2_[i] = static_cast<T>(1 / std::sqrt(p2 + mass2));
    b_[i] = kPi * (T(2) * b_[i] - T(1));
  }
  Affine(x_, xt_, w_.data(), b_.data(), n);
  for (int p = 0; p < num_points_; ++p) {
    T* z = h_.col(p).data();
    const T* scale = aux2_.data();
#pragma omp simd
    for (int i = 0; i < n; ++i) z[i] = vmath::Cos(z[i]) * scale[i];
  }
}

template <typename T>
double Sampler<T>::Phi4Integral() {
  if (!lattice_) return 0.0;
  const int n = cos_.width;
  const size_t num_modes = lattice_->k.size();
  mode_c_.assign(num_modes, 0.0);
  mode_s_.assign(num_modes, 0.0);
  for (int i = 0; i < n; ++i) {
    const double amp = double(w_[i]) * double(aux2_[i]);
    const double c = double(b_[i]);
    mode_c_[mode_[i]] += amp * std::cos(c);
    mode_s_[mode_[i]] += amp * std::sin(c);
  }
  return BoxPhi4Integral(*lattice_, mode_c_.data(), mode_s_.data(), cos_table_,
                         sin_table_, grid_phi_);
}

template <typename T>
void Sampler<T>::CosNetHidden(int64_t m) {
  if (lattice_) return BoxMomenta(m);
  const int d = input_dim_, n = cos_.width;
  FillNormals(Stream(m, 0), int64_t{n} * d, T(1), w_.data());
  FillUniforms(Stream(m, 1), n, aux_.data());
  FillUniforms(Stream(m, 2), n, b_.data());
  const T cutoff = static_cast<T>(cos_.cutoff);
  const T mass2 = static_cast<T>(cos_.mass * cos_.mass);
  const T inv_d = T(1) / T(d);
  constexpr T kPi = std::numbers::pi_v<T>;
  T* w = w_.data();
  T* scale = aux2_.data();
#pragma omp simd
  for (int i = 0; i < n; ++i) {
    T norm2 = 0;
    for (int k = 0; k < d; ++k) norm2 += w[i + n * k] * w[i + n * k];
    // b_i = direction * Lambda U^(1/d): uniform in the d-ball.
    const T r = cutoff * vmath::Exp(vmath::LogPositive(aux_[i]) * inv_d);
    const T f = r / std::sqrt(norm2);
    for (int k = 0; k < d; ++k) w[i + n * k] *= f;
    scale[i] = T(1) / std::sqrt(r * r + mass2);
    b_[i] = kPi * (T(2) * b_[i] - T(1));
  }
  Affine(x_, xt_, w, b_.data(), n);
  for (int p = 0; p < num_points_; ++p) {
    T* z = h_.col(p).data();
#pragma omp simd
    for (int i = 0; i < n; ++i) z[i] = vmath::Cos(z[i]) * scale[i];
  }
}

// Exact transitions of the stationary OU process between sorted times:
// X_1 = sigma xi_1, X_k = rho X_(k-1) + sigma sqrt(1 - rho^2) xi_k,
// rho = exp(-(t_k - t_(k-1)) / tau); xi from the stream (seed, m, 1000).
template <typename T>
void Sampler<T>::DrawPath(int64_t m) {
  FillNormals(Stream(m, 1000), num_points_, 1.0, path_.data());
  double x = 0.0;
  for (int k = 0; k < num_points_; ++k) {
    const int p = time_order_[k];
    const double xi = path_[k];
    if (k == 0) {
      x = ou_.sigma * xi;
    } else {
      const double dt = times_[p] - times_[time_order_[k - 1]];
      const double rho = std::exp(-dt / ou_.tau);
      x = rho * x + ou_.sigma * std::sqrt(std::max(0.0, 1 - rho * rho)) * xi;
    }
    x_(p, 0) = static_cast<T>(x);
    xt_(0, p) = static_cast<T>(x);
  }
}

template <typename T>
void Sampler<T>::Hidden(int64_t m) {
  if (features_) return features_->Hidden(m, h_);
  if (cos_net_) return CosNetHidden(m);
  if (ou_net_) DrawPath(m);
  MlpFirstLayer(m);
  for (int l = 1; l + 1 < static_cast<int>(widths_.size()); ++l) {
    MlpDeepLayer(m, l);
  }
}

template <typename T>
void Sampler<T>::Evaluate(int64_t m, double* phi) {
  Hidden(m);
  const int n = static_cast<int>(h_.rows());
  const int dout = output_dim_;
  // Row c of the output weights is w_[c n, (c + 1) n): the first row is the
  // same draw as for a single-component net.
  FillNormals(Stream(m, out_tag_), int64_t{n} * dout, out_weight_scale_,
              w_.data());
  if (deformed_layer_ >= 0 && !cos_net_ &&
      deformed_layer_ == static_cast<int>(widths_.size()) - 1) {
    Deform(m, deformed_layer_, n, n);  // Validate: d_out = 1 here
  }
  if (!output_mean_.empty()) {
    for (int c = 0; c < dout; ++c) {
      const T shift = static_cast<T>(output_mean_[c] / n);
      T* row = w_.data() + int64_t{n} * c;
      for (int i = 0; i < n; ++i) row[i] += shift;
    }
  }
  if (out_bias_var_ > 0) {
    FillNormals(Stream(m, out_bias_tag_), dout, out_bias_scale_, b_.data());
  } else {
    std::fill(b_.begin(), b_.begin() + dout, T(0));
  }
  for (int c = 0; c < dout; ++c) {
    const T* w = w_.data() + int64_t{n} * c;
    const T bias = b_[c];
    for (int p = 0; p < num_points_; ++p) {
      const T* h = h_.col(p).data();
      T acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int i = 0; i < n; ++i) acc += w[i] * h[i];
      phi[int64_t{p} * dout + c] = static_cast<double>(bias + acc);
    }
  }
}

template <typename T>
void Sampler<T>::ConditionalCovariance(int64_t m, double* cov) {
  Hidden(m);
  const int num = num_points_, n = static_cast<int>(h_.rows());
  z_.resize(num, num);
  {  // the P(P+1)/2 dot products, each a fixed-order reduction
    for (int q = 0; q < num; ++q) {
      const T* hq = h_.col(q).data();
      for (int p = 0; p <= q; ++p) {
        const T* hp = h_.col(p).data();
        T acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int i = 0; i < n; ++i) acc += hp[i] * hq[i];
        z_(p, q) = z_(q, p) = acc;
      }
    }
  }
  for (int j = 0; j < num * num; ++j) {
    cov[j] =
        out_bias_var_ + out_weight_var_ * static_cast<double>(z_.data()[j]);
  }
}

template <typename T>
void Sampler<T>::BiasFreeFeatures(int64_t m, double* g) {
  assert(gauss_net_);
  bias_free_ = true;  // b = 0 in MlpFirstLayer; w from its own stream
  Hidden(m);
  bias_free_ = false;
  const int64_t size = h_.size();
  const T* h = h_.data();
  for (int64_t i = 0; i < size; ++i) g[i] = static_cast<double>(h[i]);
}

}  // namespace

std::unique_ptr<NetworkSampler> MakeNetworkSampler(const ExperimentSpec& spec) {
  if (std::holds_alternative<NullConeSpec>(spec.architecture)) {
    return MakeNullConeSampler(spec);
  }
  if (spec.sampling.precision == Precision::kFloat32) {
    return std::make_unique<Sampler<float>>(spec);
  }
  return std::make_unique<Sampler<double>>(spec);
}

}  // namespace nnft
