// The Monte-Carlo engine: chunks of networks -> moment sums (engine.h).
//
// Per network m, in network order within the chunk: phi at the P points
// (NetworkSampler), then for every tuple of the closure the product of phi
// over its indices, added to the chunk's sums in double. Products reuse the
// closure's structure: tuples are ordered by size, and each tuple's prefix
// (its last index dropped) is in the closure, so prod(t) = prod(prefix) *
// phi(last) costs one multiply per tuple.
//
// With integrate_output_layer the product is replaced by its conditional
// expectation given the hidden layers: phi is then Gaussian with covariance
// K (NetworkSampler::ConditionalCovariance), and by Wick's theorem
// E[prod_k phi(x_ik) | h] = sum over pairings of prod K (0 for odd orders),
// the hafnian of K restricted to the tuple (3 terms at n = 4, 15 at n = 6).
// With integrate_first_layer_bias as well (Gauss-net), the expectation is
// taken given the first-layer weights alone, the log-normal factors exp(b_j)
// integrated in closed form (core/sampling/bias_integral.h derives it).
//
// With a phi^4 insertion (ExperimentSpec::insertion) each network also gets
// the weight w = exp(-(lambda/4!)(I - I_ref)), I = int_box phi^4 (exact,
// core/sampling/box.h), and the chunk layout of engine.h (kWeighted*) holds the
// weighted and the plain products side by side. I_ref = 3 G(0)^2 L^d, the
// free (infinite-width) expectation of I, is a constant of the spec, so every
// chunk uses the same shift and chunks still merge exactly; it only keeps w
// near 1 (w can neither overflow unless I falls 700 below I_ref, impossible
// for lambda I_ref / 24 < 700, which Validate enforces, nor matter when it
// underflows: such a network has negligible weight).
#include "core/sampling/engine.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cmath>
#include <mutex>
#include <optional>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "core/analyses/null_cone.h"
#include "core/analyses/reflection.h"
#include "core/analyses/symmetry.h"
#include "core/sampling/bias_integral.h"
#include "core/sampling/box.h"
#include "core/sampling/network.h"
#include "core/status_macros.h"
#include "core/train/train.h"

namespace nnft {

namespace {

// The engine's precomputed plan (Engine::Impl holds one).
struct Plan {
  int num_points = 0;  // points evaluated (the spec's and appended ones)
  int output_dim = 1;
  int real_slots = 0;   // num_points * output_dim
  int total_slots = 0;  // real slots and virtual slots
  const std::vector<std::vector<EvaluationPlan::Term>>* virtual_slots = nullptr;
  int chunk_size = 0;
  int64_t num_networks = 0;
  bool integrate = false;
  // integrate_first_layer_bias (Gauss-net): the closed form of
  // core/sampling/bias_integral.h; null otherwise.
  const BiasIntegral* bias = nullptr;
  // phi^4 insertion: lambda / 4! and the reference I_ref (0 when none).
  bool weighted = false;
  double coupling = 0, reference = 0;
  // Per tuple: index of its prefix tuple (-1 for singletons), last index.
  std::vector<int> prefix;
  std::vector<int> last;
  const std::vector<Tuple>* tuples = nullptr;
};

// Hafnian of K on the index list idx[0..n): sum over perfect matchings.
double Hafnian(const double* cov, int num_points, const int* idx, int n) {
  if (n == 0) return 1.0;
  if (n % 2 == 1) return 0.0;
  double total = 0;
  int rest[kMaxOrder];
  for (int j = 1; j < n; ++j) {
    int r = 0;
    for (int k = 1; k < n; ++k) {
      if (k != j) rest[r++] = idx[k];
    }
    total += cov[idx[0] + num_points * idx[j]] *
             Hafnian(cov, num_points, rest, n - 2);
  }
  return total;
}

// Per-thread scratch: the sampler and the per-network buffers. `spec` is
// the sampler's spec (points include the appended ones).
struct Worker {
  Worker(const ExperimentSpec& spec, const Plan& plan, int64_t num_tuples)
      : sampler(spec.training ? nullptr : MakeNetworkSampler(spec)),
        trainer(spec.training ? MakeNetworkTrainer(spec) : nullptr),
        phi(spec.training ? MakeTrainingLayout(spec).size()
                          : static_cast<size_t>(plan.total_slots)),
        point_cov(int64_t{plan.num_points} * plan.num_points),
        cov(int64_t{plan.total_slots} * plan.total_slots),
        prod(num_tuples) {
    if (plan.bias != nullptr) {
      features.resize(int64_t{std::get<GaussNetSpec>(spec.architecture).width} *
                      plan.num_points);
    }
  }
  std::unique_ptr<NetworkSampler> sampler;
  // Training specs: each network's record (core/train/train.h) takes the place
  // of phi at the points; products and sums are as for correlators.
  std::unique_ptr<NetworkTrainer> trainer;
  std::vector<double> phi, point_cov, cov, prod;
  std::vector<double> features, bias_scratch;  // integrate_first_layer_bias
};

// Virtual slots (symmetry checks on the outputs): linear in the real ones.
void FillVirtualSlots(const Plan& plan, double* phi) {
  const auto& virt = *plan.virtual_slots;
  for (size_t v = 0; v < virt.size(); ++v) {
    double value = 0.0;
    for (const auto& term : virt[v]) value += term.weight * phi[term.slot];
    phi[plan.real_slots + v] = value;
  }
}

// Conditional covariance over slots from the one over points: components
// are independent given the hidden layers (delta^{ab} K(p, q)), and virtual
// slots are linear maps A of real ones (cov = A K A^T).
void SlotCovariance(const Plan& plan, Worker& w) {
  const int dout = plan.output_dim, np = plan.num_points, t = plan.total_slots;
  double* cov = w.cov.data();
  std::fill(w.cov.begin(), w.cov.end(), 0.0);
  for (int q = 0; q < np; ++q) {
    for (int p = 0; p < np; ++p) {
      for (int c = 0; c < dout; ++c) {
        cov[(p * dout + c) + int64_t{t} * (q * dout + c)] =
            w.point_cov[p + int64_t{np} * q];
      }
    }
  }
  const auto& virt = *plan.virtual_slots;
  for (size_t v = 0; v < virt.size(); ++v) {  // rows/columns against real
    const int row = plan.real_slots + static_cast<int>(v);
    for (int s = 0; s < plan.real_slots; ++s) {
      double value = 0.0;
      for (const auto& term : virt[v]) {
        value += term.weight * cov[term.slot + int64_t{t} * s];
      }
      cov[row + int64_t{t} * s] = cov[s + int64_t{t} * row] = value;
    }
  }
  for (size_t v = 0; v < virt.size(); ++v) {  // virtual against virtual
    const int row = plan.real_slots + static_cast<int>(v);
    for (size_t u = 0; u < virt.size(); ++u) {
      const int col = plan.real_slots + static_cast<int>(u);
      double value = 0.0;
      for (const auto& term : virt[v]) {
        value += term.weight * cov[term.slot + int64_t{t} * col];
      }
      cov[row + int64_t{t} * col] = value;
    }
  }
}

void AddProducts(const Plan& impl, Worker& w, std::vector<double>& s) {
  const int64_t n = static_cast<int64_t>(impl.prefix.size());
  for (int64_t t = 0; t < n; ++t) {
    const int pre = impl.prefix[t];
    const double p = (pre < 0 ? 1.0 : w.prod[pre]) * w.phi[impl.last[t]];
    w.prod[t] = p;
    s[t] += p;
  }
}

void AddWickMoments(const Plan& impl, Worker& w, std::vector<double>& s) {
  const auto& tuples = *impl.tuples;
  for (size_t t = 0; t < tuples.size(); ++t) {
    const int n = static_cast<int>(tuples[t].size());
    if (n % 2 == 1) continue;  // odd moments of a centred Gaussian vanish
    s[t] += Hafnian(w.cov.data(), impl.total_slots, tuples[t].data(), n);
  }
}

// One network of a reweighted run: the weighted products into s[0, T), the
// plain ones into s[T, 2T), then sum w, sum w^2, sum I, sum w I.
void AddWeighted(const Plan& impl, Worker& w, std::vector<double>& s) {
  const double action = w.sampler->Phi4Integral();
  const double weight = std::exp(-impl.coupling * (action - impl.reference));
  const int64_t n = static_cast<int64_t>(impl.prefix.size());
  for (int64_t t = 0; t < n; ++t) {
    const int pre = impl.prefix[t];
    const double p = (pre < 0 ? 1.0 : w.prod[pre]) * w.phi[impl.last[t]];
    w.prod[t] = p;
    s[t] += weight * p;
    s[n + t] += p;
  }
  double* extra = s.data() + 2 * n;
  extra[kWeightSum] += weight;
  extra[kWeightSquareSum] += weight * weight;
  extra[kActionSum] += action;
  extra[kWeightedActionSum] += weight * action;
}

ChunkSums ComputeChunk(const Plan& impl, Worker& w, int64_t k) {
  ChunkSums out;
  out.chunk = k;
  out.networks = impl.chunk_size;
  const size_t tuples = impl.prefix.size();
  out.sums.assign(impl.weighted ? 2 * tuples + kWeightExtras : tuples, 0.0);
  const int64_t first = k * impl.chunk_size;
  for (int64_t m = first; m < first + impl.chunk_size; ++m) {
    if (w.trainer) {
      w.trainer->Train(m, w.phi.data());
      AddProducts(impl, w, out.sums);
    } else if (impl.weighted) {
      w.sampler->Evaluate(m, w.phi.data());
      AddWeighted(impl, w, out.sums);
    } else if (impl.bias != nullptr) {
      w.sampler->BiasFreeFeatures(m, w.features.data());
      impl.bias->Add(w.features.data(), w.bias_scratch, out.sums.data());
    } else if (impl.integrate) {
      if (impl.total_slots == impl.num_points) {
        w.sampler->ConditionalCovariance(m, w.cov.data());
      } else {
        w.sampler->ConditionalCovariance(m, w.point_cov.data());
        SlotCovariance(impl, w);
      }
      AddWickMoments(impl, w, out.sums);
    } else {
      w.sampler->Evaluate(m, w.phi.data());
      if (!impl.virtual_slots->empty()) FillVirtualSlots(impl, w.phi.data());
      AddProducts(impl, w, out.sums);
    }
  }
  return out;
}

}  // namespace

struct Engine::Impl : Plan {
  EvaluationPlan evaluation;
  ExperimentSpec sampler_spec;  // the spec with the appended points
  std::optional<BiasIntegral> bias_integral;
};

Engine::Engine(ExperimentSpec spec, TupleSet tuples)
    : spec_(std::move(spec)),
      tuples_(std::move(tuples)),
      impl_(std::make_unique<Impl>()) {
  impl_->evaluation = MakeEvaluationPlan(spec_);
  impl_->sampler_spec = spec_;
  impl_->sampler_spec.points = impl_->evaluation.points;
  impl_->num_points = static_cast<int>(impl_->evaluation.points.rows());
  impl_->output_dim = impl_->evaluation.output_dim;
  impl_->real_slots = impl_->evaluation.real_slots;
  impl_->total_slots = impl_->evaluation.total_slots();
  impl_->virtual_slots = &impl_->evaluation.virtual_slots;
  impl_->chunk_size = spec_.sampling.chunk_size;
  impl_->integrate = spec_.sampling.integrate_output_layer;
  if (spec_.insertion.has_value()) {
    impl_->weighted = true;
    impl_->coupling = spec_.insertion->lambda / 24.0;
    impl_->reference = Phi4Reference(spec_);
  }
  impl_->tuples = &tuples_.tuples();
  if (spec_.sampling.integrate_first_layer_bias) {
    // Validate: a Gauss-net with one output and no virtual slots.
    assert(impl_->total_slots == impl_->num_points);
    impl_->bias_integral.emplace(std::get<GaussNetSpec>(spec_.architecture),
                                 tuples_);
    impl_->bias = &*impl_->bias_integral;
  }
  const auto& all = tuples_.tuples();
  impl_->prefix.resize(all.size());
  impl_->last.resize(all.size());
  for (size_t t = 0; t < all.size(); ++t) {
    const Tuple& tuple = all[t];
    impl_->last[t] = tuple.back();
    impl_->prefix[t] =
        tuple.size() == 1 ? -1
                          : tuples_.Find(Tuple(tuple.begin(), tuple.end() - 1));
    // The closure holds every prefix, and orders tuples by size.
    assert(tuple.size() == 1 ||
           (impl_->prefix[t] >= 0 && impl_->prefix[t] < static_cast<int>(t)));
  }
}

Engine::~Engine() = default;

double Phi4Reference(const ExperimentSpec& spec) {
  const auto* cos = std::get_if<CosNetSpec>(&spec.architecture);
  if (cos == nullptr || cos->box_side <= 0) return 0.0;
  absl::StatusOr<BoxLattice> lattice =
      MakeBoxLattice(cos->input_dim, cos->box_side, cos->cutoff);
  if (!lattice.ok()) return 0.0;
  const double g0 = BoxPropagator(*lattice, 1, cos->mass,
                                  Eigen::VectorXd::Zero(cos->input_dim));
  return 3 * g0 * g0 * std::pow(cos->box_side, cos->input_dim);
}

absl::StatusOr<ExperimentSpec> EngineSpec(const ExperimentSpec& spec,
                                          const Limits& limits) {
  NNFT_RETURN_IF_ERROR(Validate(spec, limits));
  if (std::holds_alternative<NullConeSpec>(spec.architecture)) {
    return NullConeEngineSpec(spec);
  }
  if (spec.reflection.enabled) return ReflectionEngineSpec(spec, limits);
  return spec;
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(
    const ExperimentSpec& user_spec, const Limits& limits) {
  NNFT_ASSIGN_OR_RETURN(const ExperimentSpec spec,
                        EngineSpec(user_spec, limits));
  NNFT_ASSIGN_OR_RETURN(TupleSet tuples,
                        BuildTupleSet(spec, limits.max_tuples));
  return std::unique_ptr<Engine>(new Engine(spec, std::move(tuples)));
}

absl::StatusOr<TupleSet> BuildTupleSet(const ExperimentSpec& spec,
                                       int64_t max_tuples) {
  if (spec.training) {
    const TrainingLayout layout = MakeTrainingLayout(spec);
    return TupleSet::Build(layout.size(), TrainingObservables(layout),
                           max_tuples);
  }
  return BuildSpecTuples(spec, max_tuples);
}

ChunkSums Engine::RunChunk(int64_t k) const {
  Worker worker(impl_->sampler_spec, *impl_, tuples_.size());
  return ComputeChunk(*impl_, worker, k);
}

absl::Status Engine::RunChunks(
    int64_t first, int64_t last, int threads,
    const std::function<bool(ChunkSums)>& on_chunk) const {
  if (first < 0 || last < first) {
    return absl::InvalidArgumentError(absl::StrCat(
        "chunk range [", first, ", ", last, "): must have 0 <= first <= last"));
  }
  const int n_threads = threads > 0 ? threads : omp_get_max_threads();
  std::atomic<bool> stop{false};
  std::mutex mu;
#pragma omp parallel num_threads(n_threads)
  {
    Worker worker(impl_->sampler_spec, *impl_, tuples_.size());
#pragma omp for schedule(dynamic, 1)
    for (int64_t k = first; k < last; ++k) {
      if (stop.load(std::memory_order_relaxed)) continue;
      ChunkSums sums = ComputeChunk(*impl_, worker, k);
      std::lock_guard<std::mutex> lock(mu);
      if (!stop.load(std::memory_order_relaxed) && !on_chunk(std::move(sums))) {
        stop.store(true, std::memory_order_relaxed);
      }
    }
  }
  if (stop.load()) {
    return absl::CancelledError(absl::StrCat("run of chunks [", first, ", ",
                                             last, ") stopped by the caller"));
  }
  return absl::OkStatus();
}

}  // namespace nnft
