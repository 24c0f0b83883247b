// Null-cone conformal fields: sampler of Theta's statistics, exact theory,
// and the push to D-dimensional correlators (null_cone.h).
#include "core/analyses/null_cone.h"

#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/estimate/jackknife.h"
#include "core/sampling/rng.h"
#include "core/theory/wick.h"

namespace nnft {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

class NullConeSampler final : public NetworkSampler {
 public:
  explicit NullConeSampler(const ExperimentSpec& spec)
      : net_(std::get<NullConeSpec>(spec.architecture)),
        seed_(spec.sampling.seed),
        n_(net_.input_dim + 2),
        theta_(StreamPadded<double>(n_)),
        uniform_(StreamPadded<double>(1)) {
    double total = 0;
    for (double w : net_.radial_weights) cdf_.push_back(total += w);
    for (double& c : cdf_) c /= total;
  }

  void Evaluate(int64_t m, double* phi) override {
    const StreamId normals{
        .seed = seed_, .network = static_cast<uint64_t>(m), .tag = 0};
    const double gaussian_scale =
        net_.law == ThetaLaw::kGaussian ? net_.scale : 1.0;
    FillNormals(normals, n_, gaussian_scale, theta_.data());
    if (net_.law != ThetaLaw::kGaussian) {
      double norm2 = 0;
      for (int a = 0; a < n_; ++a) norm2 += theta_[a] * theta_[a];
      double radius = net_.scale;
      if (net_.law == ThetaLaw::kRadial) {
        const StreamId u{
            .seed = seed_, .network = static_cast<uint64_t>(m), .tag = 1};
        FillUniforms(u, 1, uniform_.data());
        size_t k = 0;
        while (k + 1 < cdf_.size() && uniform_[0] >= cdf_[k]) ++k;
        radius *= net_.radii[k];
      }
      radius2_ = radius * radius;
      const double f = radius / std::sqrt(norm2);
      for (int a = 0; a < n_; ++a) theta_[a] *= f;
    }
    double s2 = 0, s4 = 0;
    for (int a = 0; a < n_; ++a) {
      const double t2 = theta_[a] * theta_[a];
      s2 += t2;
      s4 += t2 * t2;
    }
    // On a sphere |Theta|^2 = radius^2 by construction: use it exactly, so
    // the sphere law's mu2 carries no rounding noise posing as an error.
    if (net_.law != ThetaLaw::kGaussian) s2 = radius2_;
    phi[0] = s2 / n_;
    phi[1] = s4 / n_;
    phi[2] = (s2 * s2 - s4) / (double(n_) * (n_ - 1));
  }

  void ConditionalCovariance(int64_t, double*) override {
    std::fprintf(stderr, "nnft: null-cone field has no output layer\n");
    std::abort();
  }

 private:
  NullConeSpec net_;
  uint64_t seed_;
  int n_;
  std::vector<double> theta_, uniform_, cdf_;
  double radius2_ = 0.0;  // |Theta|^2 of the current draw (non-Gaussian laws)
};

// sum over the three pairings of X_ab X_cd.
double PairingSum(const Eigen::MatrixXd& x, const std::array<int, 4>& q) {
  const auto p = [&](int a, int b) {
    return NullConeProduct(x.row(q[a]).transpose(), x.row(q[b]).transpose());
  };
  return p(0, 1) * p(2, 3) + p(0, 2) * p(1, 3) + p(0, 3) * p(1, 2);
}

double SquaredDistance(const Eigen::MatrixXd& x, int i, int j) {
  return (x.row(i) - x.row(j)).squaredNorm();
}

// A conformal map with its length factor W: |x' - y'|^2 = W(x) W(y) |x-y|^2.
struct ConformalMap {
  std::string name;
  std::function<Eigen::VectorXd(const Eigen::VectorXd&)> map;
  std::function<double(const Eigen::VectorXd&)> factor;
};

std::vector<ConformalMap> StandardMaps(int d) {
  Eigen::VectorXd a(d), b(d);
  for (int k = 0; k < d; ++k) {
    a[k] = 0.3 - 0.1 * k;
    b[k] = 0.15 + 0.05 * k;
  }
  Eigen::MatrixXd rot = Eigen::MatrixXd::Identity(d, d);
  if (d == 1) {
    rot(0, 0) = -1;  // the only rotation-like map of the line: x -> -x
  } else {
    for (int k = 0; k + 1 < d; ++k) {  // planes (k, k+1), angles 0.7, 0.4..
      Eigen::MatrixXd g = Eigen::MatrixXd::Identity(d, d);
      const double t = 0.7 - 0.3 * k;
      g(k, k) = g(k + 1, k + 1) = std::cos(t);
      g(k, k + 1) = -std::sin(t);
      g(k + 1, k) = std::sin(t);
      rot = g * rot;
    }
  }
  const double lambda = 1.7;
  const auto one = [](const Eigen::VectorXd&) { return 1.0; };
  return {
      {"translation",
       [a](const Eigen::VectorXd& x) { return Eigen::VectorXd(x + a); }, one},
      {"rotation",
       [rot](const Eigen::VectorXd& x) { return Eigen::VectorXd(rot * x); },
       one},
      {"dilatation",
       [lambda](const Eigen::VectorXd& x) {
         return Eigen::VectorXd(lambda * x);
       },
       [lambda](const Eigen::VectorXd&) { return lambda; }},
      {"inversion",
       [](const Eigen::VectorXd& x) {
         return Eigen::VectorXd(x / x.squaredNorm());
       },
       [](const Eigen::VectorXd& x) { return 1.0 / x.squaredNorm(); }},
      {"special_conformal",
       [b](const Eigen::VectorXd& x) {
         const double den =
             1 - 2 * b.dot(x) + b.squaredNorm() * x.squaredNorm();
         return Eigen::VectorXd((x - b * x.squaredNorm()) / den);
       },
       [b](const Eigen::VectorXd& x) {
         return 1.0 / (1 - 2 * b.dot(x) + b.squaredNorm() * x.squaredNorm());
       }},
  };
}

std::vector<std::array<int, 4>> Quadruples(const ExperimentSpec& spec,
                                           int64_t* omitted) {
  std::vector<std::array<int, 4>> out;
  *omitted = 0;
  const auto add = [&](std::array<int, 4> q) {
    if (static_cast<int>(out.size()) < kMaxConformalQuads) {
      out.push_back(q);
    } else {
      ++*omitted;
    }
  };
  const int p = static_cast<int>(spec.points.rows());
  if (!spec.observables.tuples.empty()) {
    for (const auto& t : spec.observables.tuples) {
      if (t.size() != 4) continue;
      std::array<int, 4> q{t[0], t[1], t[2], t[3]};
      std::sort(q.begin(), q.end());
      if (q[0] == q[1] || q[1] == q[2] || q[2] == q[3]) continue;
      add(q);
    }
    return out;
  }
  for (int i = 0; i < p; ++i)
    for (int j = i + 1; j < p; ++j)
      for (int k = j + 1; k < p; ++k)
        for (int l = k + 1; l < p; ++l) add({i, j, k, l});
  return out;
}

// Each map applied to every point; G2 and G4 pushed at the images against
// prod W^(-Delta) = prod W times the pushed values at the originals.
std::vector<CovarianceCheck> CheckCovariance(const ExperimentSpec& spec,
                                             const ConformalResult& r) {
  const Eigen::MatrixXd& x = spec.points;
  const int p = static_cast<int>(x.rows());
  std::vector<CovarianceCheck> out;
  for (const ConformalMap& g : StandardMaps(r.dimension)) {
    CovarianceCheck check{.transformation = g.name};
    Eigen::MatrixXd y(p, x.cols());
    std::vector<double> w(p);
    bool regular = true;
    for (int i = 0; i < p; ++i) {
      w[i] = g.factor(x.row(i).transpose());
      y.row(i) = g.map(x.row(i).transpose()).transpose();
      regular = regular && std::isfinite(w[i]) && w[i] > 0 &&
                y.row(i).allFinite() && w[i] < 1e12;
    }
    if (!regular) {
      check.note = "skipped: a point is mapped to infinity";
      out.push_back(check);
      continue;
    }
    double chi2 = 0, max_z = 0;
    const auto add = [&](double image, double image_se, double predicted,
                         double predicted_se) {
      // An exact moment (zero error, e.g. mu2 of the sphere law) is
      // compared to rounding: 1e-12 relative.
      const double den =
          std::max(std::hypot(image_se, predicted_se),
                   1e-12 * std::max(std::abs(image), std::abs(predicted)));
      const double z = den > 0 ? (image - predicted) / den
                               : (image == predicted ? 0.0 : kNaN);
      chi2 += z * z;
      max_z = std::max(max_z, std::abs(z));
      ++check.dof;
    };
    for (const ConformalTwoPoint& e : r.two_point) {
      const double image =
          NullConeProduct(y.row(e.i).transpose(), y.row(e.j).transpose());
      const double factor = w[e.i] * w[e.j];
      add(r.mu2 * image, r.mu2_stderr * std::abs(image), factor * e.value,
          factor * e.stderr_value);
    }
    for (const ConformalFourPoint& e : r.four_point) {
      const double image = PairingSum(y, e.index);
      double factor = 1;
      for (int i : e.index) factor *= w[i];
      add(r.mu4 / 3 * image, r.mu4_stderr / 3 * std::abs(image), factor * e.g4,
          factor * e.g4_stderr);
    }
    if (check.dof > 0) {
      check.chi2_per_dof = chi2 / check.dof;
      check.max_abs_z = max_z;
      check.passed = max_z < 3.0;  // NaN fails
    } else {
      check.note = "skipped: fewer than 2 points";
    }
    out.push_back(check);
  }
  return out;
}

}  // namespace

double NullConeProduct(const Eigen::VectorXd& x, const Eigen::VectorXd& y) {
  return -0.5 * (x - y).squaredNorm();
}

ThetaMoments ExactThetaMoments(const NullConeSpec& net) {
  const double n = net.input_dim + 2, s2 = net.scale * net.scale;
  switch (net.law) {
    case ThetaLaw::kGaussian:
      return {.mu2 = s2, .mu4 = 3 * s2 * s2};
    case ThetaLaw::kSphere:
      return {.mu2 = s2 / n, .mu4 = 3 * s2 * s2 / (n * (n + 2))};
    case ThetaLaw::kRadial: {
      double w = 0, r2 = 0, r4 = 0;
      for (size_t k = 0; k < net.radii.size(); ++k) {
        const double q = net.radii[k] * net.radii[k];
        w += net.radial_weights[k];
        r2 += net.radial_weights[k] * q;
        r4 += net.radial_weights[k] * q * q;
      }
      return {.mu2 = s2 * r2 / w / n,
              .mu4 = 3 * s2 * s2 * r4 / w / (n * (n + 2))};
    }
  }
  return {kNaN, kNaN};
}

ExperimentSpec NullConeEngineSpec(const ExperimentSpec& spec) {
  ExperimentSpec out = spec;
  auto& net = std::get<NullConeSpec>(out.architecture);
  net.theta_moments = true;
  out.points = Eigen::MatrixXd::Zero(3, net.input_dim);
  out.observables = ObservableSpec{.orders = {1}, .tuples = {}};
  out.reflection = ReflectionSpec{};
  return out;
}

bool IsNullConeEngineForm(const ExperimentSpec& spec) {
  const auto* net = std::get_if<NullConeSpec>(&spec.architecture);
  return net != nullptr && net->theta_moments;
}

std::unique_ptr<NetworkSampler> MakeNullConeSampler(
    const ExperimentSpec& spec) {
  return std::make_unique<NullConeSampler>(spec);
}

TheoryValues NullConeTheory(const ExperimentSpec& spec,
                            const TupleSet& tuples) {
  const auto& net = std::get<NullConeSpec>(spec.architecture);
  const ThetaMoments mu = ExactThetaMoments(net);
  TheoryValues out;
  out.has_exact = true;
  const auto& requested = tuples.requested();
  if (net.theta_moments) {
    const double exact[3] = {mu.mu2, mu.mu4, mu.mu4 / 3};
    for (int r : requested) {
      const int k = tuples.tuples()[r][0];
      out.gp_full.push_back(kNaN);
      out.gp_connected.push_back(kNaN);
      out.exact_full.push_back(exact[k]);
      out.exact_connected.push_back(exact[k]);
    }
    out.method =
        "null-cone Theta statistics (s2, s4, s22) against exact (mu2, mu4, "
        "mu4/3) of the law (arXiv 2409.12222)";
    return out;
  }
  const int p = static_cast<int>(spec.points.rows());
  Eigen::MatrixXd x(p, p);
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j)
      x(i, j) = NullConeProduct(spec.points.row(i).transpose(),
                                spec.points.row(j).transpose());
  out.kernel = mu.mu2 * x;
  for (int r : requested) {
    const Tuple& t = tuples.tuples()[r];
    const int n = static_cast<int>(t.size());
    out.gp_full.push_back(theory::WickSum(out.kernel, t));
    out.gp_connected.push_back(n == 2 ? out.kernel(t[0], t[1]) : 0.0);
    double full = kNaN, connected = kNaN;
    if (n % 2 == 1) {
      full = connected = 0.0;
    } else if (n == 2) {
      full = connected = out.kernel(t[0], t[1]);
    } else if (n == 4) {
      const double pairs = theory::WickSum(x, t);
      full = mu.mu4 / 3 * pairs;
      connected = (mu.mu4 / 3 - mu.mu2 * mu.mu2) * pairs;
    }
    out.exact_full.push_back(full);
    out.exact_connected.push_back(connected);
  }
  out.method =
      "null-cone field Theta.X, X.Y = -|x-y|^2/2: G2 = mu2 X.X, G4 = (mu4/3) "
      "sum_3 X.X X.X (arXiv 2409.12222); order 6 not computed";
  return out;
}

ConformalResult AnalyzeNullCone(const ExperimentSpec& spec,
                                const TupleSet& engine_tuples,
                                const BinnedSums& sums) {
  const auto& net = std::get<NullConeSpec>(spec.architecture);
  const Eigen::MatrixXd& x = spec.points;
  const int p = static_cast<int>(x.rows());
  ConformalResult out;
  out.dimension = net.input_dim;
  const ThetaMoments exact = ExactThetaMoments(net);
  const int i2 = engine_tuples.Find({0}), i4 = engine_tuples.Find({1}),
            i22 = engine_tuples.Find({2});
  std::vector<std::pair<int, int>> pairs;
  for (int i = 0; i < p; ++i) {
    for (int j = i + 1; j < p; ++j) {
      if (static_cast<int>(pairs.size()) < kMaxConformalPairs) {
        pairs.emplace_back(i, j);
      } else {
        ++out.two_point_omitted;
      }
    }
  }
  const std::vector<std::array<int, 4>> quads =
      Quadruples(spec, &out.four_point_omitted);
  std::vector<double> xx(pairs.size()), pairing(quads.size()),
      x12x34(quads.size());
  for (size_t k = 0; k < pairs.size(); ++k) {
    xx[k] = NullConeProduct(x.row(pairs[k].first).transpose(),
                            x.row(pairs[k].second).transpose());
  }
  for (size_t k = 0; k < quads.size(); ++k) {
    const auto& q = quads[k];
    pairing[k] = PairingSum(x, q);
    x12x34[k] =
        0.25 * SquaredDistance(x, q[0], q[1]) * SquaredDistance(x, q[2], q[3]);
  }
  // f(means) = (mu2, mu4, 3 s22, G2..., then per quad G4, G4_c, g).
  const auto f = [&](const std::vector<double>& m) {
    const double mu2 = m[i2], mu4 = m[i4];
    std::vector<double> v = {mu2, mu4, 3 * m[i22]};
    for (double a : xx) v.push_back(mu2 * a);
    for (size_t k = 0; k < quads.size(); ++k) {
      v.push_back(mu4 / 3 * pairing[k]);
      v.push_back((mu4 / 3 - mu2 * mu2) * pairing[k]);
      v.push_back(mu4 / 3 * pairing[k] / x12x34[k]);
    }
    return v;
  };
  JackknifeResult jk = Jackknife(sums, f);
  // A value fixed by construction (mu2 of a sphere law) has only rounding
  // noise in its jackknife: report it as exact (error 0).
  for (size_t k = 0; k < jk.value.size(); ++k) {
    if (jk.stderr_value[k] <= 1e-12 * std::abs(jk.value[k])) {
      jk.stderr_value[k] = 0.0;
    }
  }
  const auto& val = jk.value;
  const auto& se = jk.stderr_value;
  out.mu2 = val[0], out.mu2_stderr = se[0], out.mu2_exact = exact.mu2;
  out.mu4 = val[1], out.mu4_stderr = se[1], out.mu4_exact = exact.mu4;
  out.mu4_mixed = val[2], out.mu4_mixed_stderr = se[2];
  size_t at = 3;
  for (size_t k = 0; k < pairs.size(); ++k, ++at) {
    out.two_point.push_back({.i = pairs[k].first,
                             .j = pairs[k].second,
                             .value = val[at],
                             .stderr_value = se[at],
                             .exact = exact.mu2 * xx[k]});
  }
  for (size_t k = 0; k < quads.size(); ++k, at += 3) {
    const auto& q = quads[k];
    ConformalFourPoint e;
    e.index = q;
    const double d13d24 =
        SquaredDistance(x, q[0], q[2]) * SquaredDistance(x, q[1], q[3]);
    e.u = SquaredDistance(x, q[0], q[1]) * SquaredDistance(x, q[2], q[3]) /
          d13d24;
    e.v = SquaredDistance(x, q[0], q[3]) * SquaredDistance(x, q[1], q[2]) /
          d13d24;
    e.g4 = val[at], e.g4_stderr = se[at];
    e.g4_exact = exact.mu4 / 3 * pairing[k];
    e.g4c = val[at + 1], e.g4c_stderr = se[at + 1];
    e.g4c_exact = (exact.mu4 / 3 - exact.mu2 * exact.mu2) * pairing[k];
    e.g = val[at + 2], e.g_stderr = se[at + 2];
    e.g_exact = exact.mu4 / 3 * (1 + 1 / e.u + e.v / e.u);
    out.four_point.push_back(e);
  }
  out.checks = CheckCovariance(spec, out);
  return out;
}

}  // namespace nnft
