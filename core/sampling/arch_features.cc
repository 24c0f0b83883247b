// Feature maps of the conv1d, attention and KAN architectures; see
// arch_features.h for the stream layout and core/spec/spec.h for the
// definitions. Sums run in a fixed order (no Eigen GEMM), so bits depend on
// (seed, m) only.
#include "core/sampling/arch_features.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <variant>
#include <vector>

#include "core/sampling/layer_ops.h"
#include "core/sampling/rng.h"

namespace nnft {

template <typename T>
void BsplineBasis(T x, int grid_size, int order, T range, T* out) {
  const int count = grid_size + order;
  std::fill(out, out + count, T(0));
  const T h = T(2) * range / T(grid_size);
  const T t0 = -range - T(order) * h;
  const T pos = (x - t0) / h;
  if (!(pos >= T(0)) || pos >= T(grid_size + 2 * order)) return;
  const int s = std::min(static_cast<int>(pos), grid_size + 2 * order - 1);
  const T u = pos - T(s);  // position inside knot interval s, in [0, 1)
  T b[8] = {T(1)};         // b[i] = B_{s-p+i, p}(x)
  for (int p = 1; p <= order; ++p) {
    T next[8];
    for (int i = 0; i <= p; ++i) {
      T v = 0;
      if (i >= 1) v += (u + T(p - i)) * b[i - 1];
      if (i <= p - 1) v += (T(i + 1) - u) * b[i];
      next[i] = v / T(p);
    }
    std::copy(next, next + p + 1, b);
  }
  for (int i = 0; i <= order; ++i) {
    const int j = s - order + i;
    if (j >= 0 && j < count) out[j] = b[i];
  }
}

template void BsplineBasis<float>(float, int, int, float, float*);
template void BsplineBasis<double>(double, int, int, double, double*);

namespace {

template <typename T>
StreamId Stream(uint64_t seed, int64_t m, uint32_t tag) {
  return StreamId{
      .seed = seed, .network = static_cast<uint64_t>(m), .tag = tag};
}

// Conv layers evaluated on a channels x (P T) matrix, column p T + t; the
// last layer only at the output position (columns p).
template <typename T>
class Conv1dFeatures final : public FeatureMap<T> {
 public:
  Conv1dFeatures(const Conv1dSpec& c, const ExperimentSpec& spec)
      : c_(c), seed_(spec.sampling.seed), num_points_(spec.points.rows()) {
    const int len = c.sequence_length, cin = c.in_channels;
    x_.resize(cin, num_points_ * len);
    for (int p = 0; p < num_points_; ++p) {
      for (int t = 0; t < len; ++t) {
        for (int ch = 0; ch < cin; ++ch) {
          x_(ch, p * len + t) = static_cast<T>(spec.points(p, t * cin + ch));
        }
      }
    }
    const int64_t max_in = std::max(cin, c.channels);
    w_.resize(StreamPadded<T>(max_in * c.kernel_size * c.channels));
    b_.resize(StreamPadded<T>(c.channels));
    readout_ =
        Readout{.features = c.channels,
                .weight_var = c.sw[c.layers] * c.sw[c.layers] / c.channels,
                .bias_var = c.sb[c.layers] * c.sb[c.layers],
                .weight_tag = static_cast<uint32_t>(2 * c.layers),
                .bias_tag = static_cast<uint32_t>(2 * c.layers + 1)};
  }
  const Readout& readout() const override { return readout_; }

  void Hidden(int64_t m, Matrix<T>& h) override {
    const Matrix<T>* in = &x_;
    for (int l = 0; l < c_.layers; ++l) {
      const bool last = l + 1 == c_.layers;
      Layer(m, l, *in, last, last ? h : a_[l % 2]);
      in = &a_[l % 2];
    }
  }

 private:
  // out = act(b + W * shifted in), at every position or only at t_out.
  void Layer(int64_t m, int l, const Matrix<T>& in, bool last, Matrix<T>& out) {
    const int n = c_.channels, cin = static_cast<int>(in.rows());
    const int k = c_.kernel_size, len = c_.sequence_length;
    const int off = (k - 1) / 2;
    const auto tag = static_cast<uint32_t>(2 * l);
    FillNormals(Stream<T>(seed_, m, tag), int64_t{n} * cin * k,
                static_cast<T>(c_.sw[l] / std::sqrt(double(cin) * k)),
                w_.data());
    const bool bias = c_.sb[l] > 0;
    if (bias) {
      FillNormals(Stream<T>(seed_, m, tag + 1), n, static_cast<T>(c_.sb[l]),
                  b_.data());
    }
    const int positions = last ? 1 : len;
    out.resize(n, int64_t{num_points_} * positions);
    for (int p = 0; p < num_points_; ++p) {
      for (int i = 0; i < positions; ++i) {
        const int t = last ? c_.output_position : i;
        T* z = out.col(int64_t{p} * positions + i).data();
        for (int r = 0; r < n; ++r) z[r] = bias ? b_[r] : T(0);
        for (int j = 0; j < k; ++j) {
          int src = t + j - off;
          if (c_.padding == Padding::kCircular) {
            src = ((src % len) + len) % len;
          } else if (src < 0 || src >= len) {
            continue;
          }
          const T* hin = in.col(int64_t{p} * len + src).data();
          for (int ch = 0; ch < cin; ++ch) {
            const T* wc = w_.data() + (int64_t{j} * cin + ch) * n;
            const T a = hin[ch];
#pragma omp simd
            for (int r = 0; r < n; ++r) z[r] = std::fma(wc[r], a, z[r]);
          }
        }
      }
    }
    ApplyActivation(c_.activation, out.data(), out.size());
  }

  Conv1dSpec c_;
  uint64_t seed_;
  int num_points_;
  Readout readout_;
  Matrix<T> x_;
  Matrix<T> a_[2];
  std::vector<T> w_, b_;
};

// One softmax attention layer; features (h e + b) = o_h(t_out)_b.
template <typename T>
class AttentionFeatures final : public FeatureMap<T> {
 public:
  AttentionFeatures(const AttentionSpec& a, const ExperimentSpec& spec)
      : a_(a), seed_(spec.sampling.seed), x_(spec.points.cast<T>()) {
    const int64_t size = int64_t{a.heads} * a.embed_dim * a.head_dim;
    for (auto* w : {&wq_, &wk_, &wv_}) w->resize(StreamPadded<T>(size));
    const int e = a.head_dim, len = a.sequence_length;
    keys_.resize(int64_t{len} * e);
    values_.resize(int64_t{len} * e);
    logits_.resize(len);
    readout_ =
        Readout{.features = int64_t{a.heads} * e,
                .weight_var = a.so * a.so / (double(a.heads) * e),
                .bias_var = a.sb * a.sb,
                .weight_tag = static_cast<uint32_t>(4 + a.output_component),
                .bias_tag = 3};
  }
  const Readout& readout() const override { return readout_; }

  void Hidden(int64_t m, Matrix<T>& h) override {
    const int64_t size = int64_t{a_.heads} * a_.embed_dim * a_.head_dim;
    const double sd = std::sqrt(double(a_.embed_dim));
    FillNormals(Stream<T>(seed_, m, 0), size, static_cast<T>(a_.sq / sd),
                wq_.data());
    FillNormals(Stream<T>(seed_, m, 1), size, static_cast<T>(a_.sk / sd),
                wk_.data());
    FillNormals(Stream<T>(seed_, m, 2), size, static_cast<T>(a_.sv / sd),
                wv_.data());
    h.resize(readout_.features, x_.rows());
    for (int64_t p = 0; p < x_.rows(); ++p) {
      for (int head = 0; head < a_.heads; ++head) {
        Head(head, p, h.col(p).data() + int64_t{head} * a_.head_dim);
      }
    }
  }

 private:
  // y = W_head^T x_t for the token t of point p (W: D x e of one head).
  void Project(const std::vector<T>& w, int head, int64_t p, int t, T* y) {
    const int d = a_.embed_dim, e = a_.head_dim;
    const T* wh = w.data() + int64_t{head} * d * e;
    for (int b = 0; b < e; ++b) y[b] = 0;
    for (int a = 0; a < d; ++a) {
      const T xa = x_(p, int64_t{t} * d + a);
      for (int b = 0; b < e; ++b) y[b] = std::fma(wh[a * e + b], xa, y[b]);
    }
  }

  void Head(int head, int64_t p, T* out) {
    const int e = a_.head_dim, len = a_.sequence_length;
    T q[64];
    std::vector<T> qbuf;
    T* qp = q;
    if (e > 64) {
      qbuf.resize(e);
      qp = qbuf.data();
    }
    Project(wq_, head, p, a_.output_position, qp);
    T top = -std::numeric_limits<T>::infinity();
    const T inv_sqrt_e = T(1) / std::sqrt(T(e));
    for (int s = 0; s < len; ++s) {
      T* ks = keys_.data() + int64_t{s} * e;
      Project(wk_, head, p, s, ks);
      Project(wv_, head, p, s, values_.data() + int64_t{s} * e);
      T dot = 0;
      for (int b = 0; b < e; ++b) dot = std::fma(qp[b], ks[b], dot);
      logits_[s] = dot * inv_sqrt_e;
      top = std::max(top, logits_[s]);
    }
    T norm = 0;
    for (int s = 0; s < len; ++s) {
      logits_[s] = std::exp(logits_[s] - top);
      norm += logits_[s];
    }
    for (int b = 0; b < e; ++b) out[b] = 0;
    for (int s = 0; s < len; ++s) {
      const T weight = logits_[s] / norm;
      const T* vs = values_.data() + int64_t{s} * e;
      for (int b = 0; b < e; ++b) out[b] = std::fma(weight, vs[b], out[b]);
    }
  }

  AttentionSpec a_;
  uint64_t seed_;
  Matrix<T> x_;  // P x (T D)
  Readout readout_;
  std::vector<T> wq_, wk_, wv_, keys_, values_, logits_;
};

// KAN [d, N, 1]: fixed first-layer edge features F0 (d (1+G+k) x P), inner
// node sums u = C F0, readout features (sa1 base(u), sc1 B_i(u)).
template <typename T>
class KanFeatures final : public FeatureMap<T> {
 public:
  KanFeatures(const KanSpec& k, const ExperimentSpec& spec)
      : k_(k),
        seed_(spec.sampling.seed),
        nb_(1 + k.grid_size + k.spline_order) {
    const int num = static_cast<int>(spec.points.rows()), d = k.input_dim;
    f0_.resize(int64_t{d} * nb_, num);
    basis_.resize(nb_);
    for (int p = 0; p < num; ++p) {
      for (int i = 0; i < d; ++i) {
        T* f = f0_.col(p).data() + int64_t{i} * nb_;
        const T x = static_cast<T>(spec.points(p, i));
        f[0] = x;
        ApplyActivation(k.base_activation, f, 1);
        f[0] *= static_cast<T>(k.sa0);
        BsplineBasis<T>(x, k.grid_size, k.spline_order,
                        static_cast<T>(k.grid_range), f + 1);
        for (int j = 1; j < nb_; ++j) f[j] *= static_cast<T>(k.sc0);
      }
    }
    w_.resize(StreamPadded<T>(int64_t{k.width} * d * nb_));
    readout_ = Readout{.features = int64_t{k.width} * nb_,
                       .weight_var = 1.0 / k.width,
                       .bias_var = 0.0,
                       .weight_tag = 1,
                       .bias_tag = 2};
  }
  const Readout& readout() const override { return readout_; }

  void Hidden(int64_t m, Matrix<T>& h) override {
    const int n = k_.width, d = k_.input_dim;
    FillNormals(Stream<T>(seed_, m, 0), int64_t{n} * d * nb_,
                static_cast<T>(1.0 / std::sqrt(double(d))), w_.data());
    MatMul(w_.data(), n, d * nb_, f0_, u_);
    h.resize(int64_t{n} * nb_, u_.cols());
    const T sa1 = static_cast<T>(k_.sa1), sc1 = static_cast<T>(k_.sc1);
    for (int64_t p = 0; p < u_.cols(); ++p) {
      for (int q = 0; q < n; ++q) {
        T* f = h.col(p).data() + int64_t{q} * nb_;
        const T u = u_(q, p);
        f[0] = u;
        ApplyActivation(k_.base_activation, f, 1);
        f[0] *= sa1;
        BsplineBasis<T>(u, k_.grid_size, k_.spline_order,
                        static_cast<T>(k_.grid_range), f + 1);
        for (int j = 1; j < nb_; ++j) f[j] *= sc1;
      }
    }
  }

 private:
  KanSpec k_;
  uint64_t seed_;
  int nb_;  // features per edge: base + G + k splines
  Readout readout_;
  Matrix<T> f0_, u_;
  std::vector<T> basis_, w_;
};

}  // namespace

template <typename T>
std::unique_ptr<FeatureMap<T>> MakeFeatureMap(const ExperimentSpec& spec) {
  if (const auto* c = std::get_if<Conv1dSpec>(&spec.architecture)) {
    return std::make_unique<Conv1dFeatures<T>>(*c, spec);
  }
  if (const auto* a = std::get_if<AttentionSpec>(&spec.architecture)) {
    return std::make_unique<AttentionFeatures<T>>(*a, spec);
  }
  if (const auto* k = std::get_if<KanSpec>(&spec.architecture)) {
    return std::make_unique<KanFeatures<T>>(*k, spec);
  }
  return nullptr;
}

template std::unique_ptr<FeatureMap<float>> MakeFeatureMap<float>(
    const ExperimentSpec&);
template std::unique_ptr<FeatureMap<double>> MakeFeatureMap<double>(
    const ExperimentSpec&);

}  // namespace nnft
