#include "server/digest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

#ifndef NNFT_MARCH
#define NNFT_MARCH "unknown"
#endif

namespace nnft::server {
namespace {

// Bump whenever the numbers any spec produces could change (engine, RNG
// streams, summation order) or the canonical encoding changes.
constexpr int kEngineVersion = 1;

// Layout: magic, format version (u32), mode (u8), then the fields below.
constexpr char kMagic[] = "NNFT-SPEC";
constexpr uint32_t kFormatVersion = 1;
constexpr uint8_t kModeCanonical = 0;
constexpr uint8_t kModeRequest = 1;

// Stable codes: never renumber (the enum's own values may be reordered).
constexpr Activation kActivations[] = {
    Activation::kIdentity, Activation::kRelu,    Activation::kErf,
    Activation::kTanh,     Activation::kSigmoid, Activation::kGelu,
    Activation::kSoftplus, Activation::kSin,     Activation::kCos,
};
constexpr uint8_t kArchMlp = 1, kArchGaussNet = 2, kArchCosNet = 3;
constexpr uint8_t kArchNullCone = 50, kArchOuNet = 51;
// Appended after the sampling fields only when the spec asks for a
// reflection-positivity analysis (older digests stay unchanged).
constexpr uint8_t kReflectionTag = 0x52;
// An MLP with residual layers or a g(Wx) projection: the plain MLP's bytes
// then the extension's, so plain MLP digests stay as they were.
constexpr uint8_t kArchMlpExtended = 4, kArchConv1d = 5, kArchAttention = 6,
                  kArchKan = 7;
// Optional trailing sections, each a tag byte then its fields; absent when
// the feature is unused, so specs without them keep their digests.
constexpr uint8_t kSectionWidthSweep = 0x70;
// Multi-component options and checks (WriteSymExtension).
constexpr uint8_t kSymTag = 0x20;

uint8_t ActivationCode(Activation a) {
  for (uint8_t i = 0; i < std::size(kActivations); ++i) {
    if (kActivations[i] == a) return i;
  }
  return 0xff;  // unreachable for a valid enum value
}

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) U8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) U8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void I32(int32_t v) { U32(static_cast<uint32_t>(v)); }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void F64(double v) { U64(std::bit_cast<uint64_t>(v)); }
  void Bytes(const char* p, size_t n) { out_.append(p, n); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(absl::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool AtEnd() const { return pos_ == in_.size(); }
  size_t Remaining() const { return in_.size() - pos_; }
  uint8_t Peek() const { return AtEnd() ? 0 : static_cast<uint8_t>(in_[pos_]); }
  uint8_t U8() {
    if (pos_ >= in_.size()) return Fail();
    return static_cast<uint8_t>(in_[pos_++]);
  }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(U8()) << (8 * i);
    return v;
  }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(U8()) << (8 * i);
    return v;
  }
  int32_t I32() { return static_cast<int32_t>(U32()); }
  int64_t I64() { return static_cast<int64_t>(U64()); }
  double F64() { return std::bit_cast<double>(U64()); }
  absl::string_view Bytes(size_t n) {
    if (Remaining() < n) {
      Fail();
      return {};
    }
    absl::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  // A count of items of at least `min_item_bytes` each that must fit in the
  // remaining input (guards allocations against malformed bytes).
  uint32_t Count(size_t min_item_bytes) {
    uint32_t n = U32();
    if (ok_ && static_cast<uint64_t>(n) * min_item_bytes > Remaining()) {
      Fail();
      return 0;
    }
    return ok_ ? n : 0;
  }

 private:
  uint8_t Fail() {
    ok_ = false;
    pos_ = in_.size();
    return 0;
  }
  absl::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

void WriteDoubles(Writer& w, const std::vector<double>& v) {
  w.U32(static_cast<uint32_t>(v.size()));
  for (double x : v) w.F64(x);
}

// The conv1d, attention and KAN cases of WriteArchitecture.
void WriteExtraArchitecture(Writer& w, const Architecture& architecture) {
  if (const auto* c = std::get_if<Conv1dSpec>(&architecture)) {
    w.U8(kArchConv1d);
    for (int v : {c->sequence_length, c->in_channels, c->kernel_size,
                  c->channels, c->layers, c->output_position}) {
      w.I32(v);
    }
    w.U8(ActivationCode(c->activation));
    w.U8(c->padding == Padding::kCircular ? 0 : 1);
    WriteDoubles(w, c->sw);
    WriteDoubles(w, c->sb);
  } else if (const auto* a = std::get_if<AttentionSpec>(&architecture)) {
    w.U8(kArchAttention);
    for (int v : {a->sequence_length, a->embed_dim, a->heads, a->head_dim,
                  a->output_position, a->output_component}) {
      w.I32(v);
    }
    for (double x : {a->sq, a->sk, a->sv, a->so, a->sb}) w.F64(x);
  } else {
    const auto& k = std::get<KanSpec>(architecture);
    w.U8(kArchKan);
    for (int v : {k.input_dim, k.width, k.grid_size, k.spline_order}) w.I32(v);
    w.U8(ActivationCode(k.base_activation));
    for (double x : {k.grid_range, k.sa0, k.sc0, k.sa1, k.sc1}) w.F64(x);
  }
}

std::vector<double> ReadDoubles(Reader& r);

absl::StatusOr<Activation> ReadActivation(Reader& r) {
  const uint8_t code = r.U8();
  if (code >= std::size(kActivations)) {
    return absl::DataLossError(
        absl::StrCat("spec bytes: unknown activation code ", code));
  }
  return kActivations[code];
}

// The conv1d, attention and KAN cases of ReadArchitecture.
absl::StatusOr<Architecture> ReadExtraArchitecture(Reader& r, uint8_t tag) {
  if (tag == kArchConv1d) {
    Conv1dSpec c;
    for (int* v : {&c.sequence_length, &c.in_channels, &c.kernel_size,
                   &c.channels, &c.layers, &c.output_position}) {
      *v = r.I32();
    }
    NNFT_ASSIGN_OR_RETURN(c.activation, ReadActivation(r));
    const uint8_t padding = r.U8();
    if (padding > 1) return absl::DataLossError("spec bytes: bad padding");
    c.padding = padding == 0 ? Padding::kCircular : Padding::kZero;
    c.sw = ReadDoubles(r);
    c.sb = ReadDoubles(r);
    return c;
  }
  if (tag == kArchAttention) {
    AttentionSpec a;
    for (int* v : {&a.sequence_length, &a.embed_dim, &a.heads, &a.head_dim,
                   &a.output_position, &a.output_component}) {
      *v = r.I32();
    }
    for (double* x : {&a.sq, &a.sk, &a.sv, &a.so, &a.sb}) *x = r.F64();
    return a;
  }
  if (tag == kArchKan) {
    KanSpec k;
    for (int* v : {&k.input_dim, &k.width, &k.grid_size, &k.spline_order}) {
      *v = r.I32();
    }
    NNFT_ASSIGN_OR_RETURN(k.base_activation, ReadActivation(r));
    for (double* x : {&k.grid_range, &k.sa0, &k.sc0, &k.sa1, &k.sc1}) {
      *x = r.F64();
    }
    return k;
  }
  return absl::DataLossError(
      absl::StrCat("spec bytes: unknown architecture tag ", tag));
}

void WriteArchitecture(Writer& w, const Architecture& architecture) {
  if (const auto* mlp = std::get_if<MlpSpec>(&architecture)) {
    const bool extended = mlp->residual || mlp->input_projection_dim > 0;
    w.U8(extended ? kArchMlpExtended : kArchMlp);
    w.I32(mlp->input_dim);
    w.U32(static_cast<uint32_t>(mlp->widths.size()));
    for (int n : mlp->widths) w.I32(n);
    w.U8(ActivationCode(mlp->activation));
    WriteDoubles(w, mlp->sw);
    WriteDoubles(w, mlp->sb);
    w.U8(mlp->first_bias == BiasLaw::kGaussian ? 0 : 1);
    if (extended) {
      w.U8(mlp->residual ? 1 : 0);
      w.I32(mlp->input_projection_dim);
      w.F64(mlp->input_projection_dim > 0 ? mlp->input_projection_scale : 1.0);
    }
  } else if (const auto* g = std::get_if<GaussNetSpec>(&architecture)) {
    w.U8(kArchGaussNet);
    w.I32(g->input_dim);
    w.I32(g->width);
    for (double x : {g->sw0, g->sb0, g->sw1, g->sb1}) w.F64(x);
  } else if (const auto* c = std::get_if<CosNetSpec>(&architecture)) {
    w.U8(kArchCosNet);
    w.I32(c->input_dim);
    w.I32(c->width);
    for (double x : {c->mass, c->cutoff, c->sa}) w.F64(x);
  } else if (const auto* n = std::get_if<NullConeSpec>(&architecture)) {
    w.U8(kArchNullCone);
    w.I32(n->input_dim);
    w.U8(static_cast<uint8_t>(n->law));
    w.F64(n->scale);
    WriteDoubles(w, n->radii);
    WriteDoubles(w, n->radial_weights);
  } else if (const auto* ou = std::get_if<OuNetSpec>(&architecture)) {
    const auto& o = *ou;
    w.U8(kArchOuNet);
    w.F64(o.tau);
    w.F64(o.sigma);
    WriteArchitecture(w, o.mlp);
  } else {
    WriteExtraArchitecture(w, architecture);
  }
}

void WriteReflection(Writer& w, const ReflectionSpec& r) {
  if (!r.enabled) return;
  w.U8(kReflectionTag);
  w.I32(r.axis);
  w.U8(r.include_four_point ? 1 : 0);
  w.F64(r.z_threshold);
  w.U64(static_cast<uint64_t>(r.points.rows()));
  w.U64(static_cast<uint64_t>(r.points.cols()));
  for (Eigen::Index i = 0; i < r.points.rows(); ++i) {
    for (Eigen::Index j = 0; j < r.points.cols(); ++j) w.F64(r.points(i, j));
  }
}

void WriteObservables(Writer& w, const ObservableSpec& observables,
                      bool canonical) {
  std::vector<int> orders = observables.orders;
  std::vector<std::vector<int>> tuples = observables.tuples;
  if (canonical) {
    for (auto& t : tuples) std::sort(t.begin(), t.end());  // multisets
    std::sort(orders.begin(), orders.end());
    orders.erase(std::unique(orders.begin(), orders.end()), orders.end());
    std::sort(tuples.begin(), tuples.end());
    tuples.erase(std::unique(tuples.begin(), tuples.end()), tuples.end());
  }
  w.U32(static_cast<uint32_t>(orders.size()));
  for (int n : orders) w.I32(n);
  w.U32(static_cast<uint32_t>(tuples.size()));
  for (const auto& t : tuples) {
    w.U32(static_cast<uint32_t>(t.size()));
    for (int i : t) w.I32(i);
  }
}

// Training block (only when training is set, so other specs keep their
// bytes): tag, data (n x d, n), eta, times, method, tolerance, flags.
constexpr uint8_t kTrainingTag = 0x60;

void WriteTraining(Writer& w, const TrainingSpec& t) {
  w.U8(kTrainingTag);
  w.U64(static_cast<uint64_t>(t.x.rows()));
  w.U64(static_cast<uint64_t>(t.x.cols()));
  for (Eigen::Index r = 0; r < t.x.rows(); ++r) {
    for (Eigen::Index c = 0; c < t.x.cols(); ++c) w.F64(t.x(r, c));
  }
  for (Eigen::Index r = 0; r < t.y.size(); ++r) w.F64(t.y(r));
  w.F64(t.eta);
  WriteDoubles(w, t.times);
  w.U8(t.method == TrainingMethod::kGradientDescent ? 0 : 1);
  w.F64(t.tolerance);
  w.U8(t.last_layer_only ? 1 : 0);
  w.U8(t.empirical_ntk ? 1 : 0);
}

// Interaction fields, appended after the sampling fields as tagged records
// only when present, so specs without them keep their bytes (and digests).
constexpr uint8_t kTagDeformation = 0x30, kTagBox = 0x31, kTagInsertion = 0x32,
                  kTagEffectiveCoupling = 0x33;
// Training's loss histogram, a trailing record only when present.
constexpr uint8_t kTagLossHistogram = 0x61;

void WriteLossHistogram(Writer& w, const ExperimentSpec& spec) {
  if (!spec.training || !spec.training->loss_histogram) return;
  w.U8(kTagLossHistogram);
  w.I32(spec.training->loss_histogram->bins);
  w.F64(spec.training->loss_histogram->min);
  w.F64(spec.training->loss_histogram->max);
}

void WriteInteractions(Writer& w, const ExperimentSpec& spec) {
  if (const auto* mlp = std::get_if<MlpSpec>(&spec.architecture);
      mlp != nullptr && mlp->deformation.has_value()) {
    w.U8(kTagDeformation);
    w.F64(mlp->deformation->s);
    w.F64(mlp->deformation->lambda);
    w.I32(mlp->deformation->layer);
  }
  if (const auto* cos = std::get_if<CosNetSpec>(&spec.architecture);
      cos != nullptr && cos->box_side != 0) {
    w.U8(kTagBox);
    w.F64(cos->box_side);
  }
  if (spec.insertion.has_value()) {
    w.U8(kTagInsertion);
    w.F64(spec.insertion->lambda);
    w.F64(spec.insertion->ess_warning_fraction);
  }
  if (spec.effective_coupling.has_value()) {
    w.U8(kTagEffectiveCoupling);
    WriteDoubles(w, spec.effective_coupling->cutoffs);
    w.U8(spec.effective_coupling->amputated_vertex ? 1 : 0);
  }
}

std::vector<double> ReadDoubles(Reader& r);

absl::StatusOr<TrainingSpec> ReadTraining(Reader& r) {
  TrainingSpec t;
  const uint64_t rows = r.U64(), cols = r.U64();
  const uint64_t max_entries = r.Remaining() / 8;
  if (!r.ok() || rows > max_entries || cols > max_entries ||
      (rows != 0 && cols + 1 > max_entries / rows)) {
    return absl::DataLossError("spec bytes: truncated training data");
  }
  t.x.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  for (uint64_t i = 0; i < rows; ++i) {
    for (uint64_t j = 0; j < cols; ++j) t.x(i, j) = r.F64();
  }
  t.y.resize(static_cast<Eigen::Index>(rows));
  for (uint64_t i = 0; i < rows; ++i) t.y(i) = r.F64();
  t.eta = r.F64();
  t.times = ReadDoubles(r);
  const uint8_t method = r.U8();
  t.tolerance = r.F64();
  const uint8_t last = r.U8(), ntk = r.U8();
  if (!r.ok() || method > 1 || last > 1 || ntk > 1) {
    return absl::DataLossError("spec bytes: bad training block");
  }
  t.method = method == 0 ? TrainingMethod::kGradientDescent
                         : TrainingMethod::kGradientFlow;
  t.last_layer_only = last == 1;
  t.empirical_ntk = ntk == 1;
  return t;
}

// The widths of a sweep (canonical: sorted, as they run), or nothing.
void WriteWidthSweep(Writer& w, const std::vector<int>& widths,
                     bool canonical) {
  if (widths.empty()) return;
  std::vector<int> sorted = widths;
  if (canonical) std::sort(sorted.begin(), sorted.end());
  w.U8(kSectionWidthSweep);
  w.U32(static_cast<uint32_t>(sorted.size()));
  for (int n : sorted) w.I32(n);
}

absl::Status ReadReflection(Reader& r, ReflectionSpec& out);
absl::Status ReadSymExtension(Reader& r, ExperimentSpec& spec);

// The trailing records: reflection positivity and the interaction fields.
absl::Status ReadInteractions(Reader& r, ExperimentSpec& spec) {
  while (r.ok() && !r.AtEnd()) {
    const uint8_t tag = r.U8();
    if (tag == kReflectionTag) {
      NNFT_RETURN_IF_ERROR(ReadReflection(r, spec.reflection));
    } else if (tag == kTagDeformation) {
      auto* mlp = std::get_if<MlpSpec>(&spec.architecture);
      if (mlp == nullptr) return absl::DataLossError("spec bytes: deformation");
      Deformation d;
      d.s = r.F64();
      d.lambda = r.F64();
      d.layer = r.I32();
      mlp->deformation = d;
    } else if (tag == kTagBox) {
      auto* cos = std::get_if<CosNetSpec>(&spec.architecture);
      if (cos == nullptr) return absl::DataLossError("spec bytes: box");
      cos->box_side = r.F64();
    } else if (tag == kTagInsertion) {
      Insertion in;
      in.lambda = r.F64();
      in.ess_warning_fraction = r.F64();
      spec.insertion = in;
    } else if (tag == kTagLossHistogram) {
      if (!spec.training) return absl::DataLossError("spec bytes: histogram");
      LossHistogramSpec h;
      h.bins = r.I32();
      h.min = r.F64();
      h.max = r.F64();
      if (h.bins < 1 || h.bins > 256 || !(h.min > 0) || !(h.max > h.min) ||
          !std::isfinite(h.max)) {
        return absl::DataLossError("spec bytes: bad loss histogram");
      }
      spec.training->loss_histogram = h;
    } else if (tag == kSymTag) {
      NNFT_RETURN_IF_ERROR(ReadSymExtension(r, spec));
    } else if (tag == kTagEffectiveCoupling) {
      EffectiveCouplingSpec ec;
      ec.cutoffs = ReadDoubles(r);
      ec.amputated_vertex = r.U8() == 1;
      spec.effective_coupling = ec;
    } else {
      return absl::DataLossError(
          absl::StrCat("spec bytes: unknown record tag ", tag));
    }
  }
  return absl::OkStatus();
}

// Multi-component options and checks (spec fields 20-29): written after the
// sampling fields, behind kSymTag, only when any differs from its default,
// so the bytes (and digests) of specs without them are unchanged. Labels are
// kept in request mode only (they do not change the numbers).

struct FieldOptionsView {
  int output_dim = 1;
  std::vector<double> axes, mean;
};

FieldOptionsView FieldOptionsOf(const Architecture& a) {
  if (const auto* m = std::get_if<MlpSpec>(&a)) {
    return {m->output_dim, m->sw0_axes, m->output_mean};
  }
  if (const auto* g = std::get_if<GaussNetSpec>(&a)) {
    return {g->output_dim, g->sw0_axes, g->output_mean};
  }
  return {OutputDim(a), {}, {}};
}

bool HasSymExtension(const ExperimentSpec& spec) {
  const FieldOptionsView o = FieldOptionsOf(spec.architecture);
  return o.output_dim != 1 || !o.axes.empty() || !o.mean.empty() ||
         !spec.symmetry_checks.empty() || !spec.cluster_checks.empty();
}

void WriteString(Writer& w, const std::string& text) {
  w.U32(static_cast<uint32_t>(text.size()));
  w.Bytes(text.data(), text.size());
}

void WriteSymExtension(Writer& w, const ExperimentSpec& spec, bool canonical) {
  const FieldOptionsView o = FieldOptionsOf(spec.architecture);
  w.U8(kSymTag);
  w.I32(o.output_dim);
  WriteDoubles(w, o.axes);
  WriteDoubles(w, o.mean);
  w.U32(static_cast<uint32_t>(spec.symmetry_checks.size()));
  for (const SymmetryCheck& c : spec.symmetry_checks) {
    w.U8(static_cast<uint8_t>(c.kind));
    w.I32(static_cast<int32_t>(c.matrix.rows()));
    w.I32(static_cast<int32_t>(c.matrix.cols()));
    for (Eigen::Index i = 0; i < c.matrix.rows(); ++i) {
      for (Eigen::Index j = 0; j < c.matrix.cols(); ++j) w.F64(c.matrix(i, j));
    }
    WriteDoubles(w, std::vector<double>(c.vector.data(),
                                        c.vector.data() + c.vector.size()));
    w.I32(c.axis);
    w.U32(static_cast<uint32_t>(c.permutation.size()));
    for (int k : c.permutation) w.I32(k);
    WriteString(w, canonical ? std::string() : c.label);
  }
  w.U32(static_cast<uint32_t>(spec.cluster_checks.size()));
  for (const ClusterCheck& c : spec.cluster_checks) {
    w.U32(static_cast<uint32_t>(c.points.size()));
    for (int k : c.points) w.I32(k);
    w.I32(c.component);
    WriteDoubles(w,
                 std::vector<double>(c.direction.data(),
                                     c.direction.data() + c.direction.size()));
    WriteDoubles(w, c.separations);
    WriteString(w, canonical ? std::string() : c.label);
  }
}

std::string Encode(const ExperimentSpec& spec, uint8_t mode) {
  Writer w;
  w.Bytes(kMagic, sizeof(kMagic) - 1);
  w.U32(kFormatVersion);
  w.U8(mode);
  WriteArchitecture(w, spec.architecture);
  // Points row-major, exact bits (so -0.0 and 0.0 differ, as they may in
  // the numbers).
  w.U64(static_cast<uint64_t>(spec.points.rows()));
  w.U64(static_cast<uint64_t>(spec.points.cols()));
  for (Eigen::Index r = 0; r < spec.points.rows(); ++r) {
    for (Eigen::Index c = 0; c < spec.points.cols(); ++c) {
      w.F64(spec.points(r, c));
    }
  }
  WriteObservables(w, spec.observables, mode == kModeCanonical);
  const SamplingSpec& s = spec.sampling;
  w.U64(s.seed);
  w.I32(s.chunk_size);
  w.U8(s.precision == Precision::kFloat64 ? 0 : 1);
  w.U8(s.integrate_output_layer ? 1 : 0);
  WriteReflection(w, spec.reflection);
  if (spec.training) WriteTraining(w, *spec.training);
  WriteWidthSweep(w, spec.width_sweep, mode == kModeCanonical);
  WriteInteractions(w, spec);
  WriteLossHistogram(w, spec);
  if (HasSymExtension(spec)) {
    WriteSymExtension(w, spec, mode == kModeCanonical);
  }
  return w.Take();
}

std::vector<double> ReadDoubles(Reader& r) {
  std::vector<double> v(r.Count(8));
  for (double& x : v) x = r.F64();
  return v;
}

// `nested`: reading an OU-net's inner network, which must be an MLP (bounds
// the recursion on hostile bytes).
absl::StatusOr<Architecture> ReadArchitecture(Reader& r, bool nested = false) {
  const uint8_t tag = r.U8();
  if (tag == kArchMlp || tag == kArchMlpExtended) {
    MlpSpec mlp;
    mlp.input_dim = r.I32();
    mlp.widths.resize(r.Count(4));
    for (int& n : mlp.widths) n = r.I32();
    const uint8_t code = r.U8();
    if (code >= std::size(kActivations)) {
      return absl::DataLossError(
          absl::StrCat("spec bytes: unknown activation code ", code));
    }
    mlp.activation = kActivations[code];
    mlp.sw = ReadDoubles(r);
    mlp.sb = ReadDoubles(r);
    const uint8_t law = r.U8();
    if (law > 1) return absl::DataLossError("spec bytes: unknown bias law");
    mlp.first_bias = law == 0 ? BiasLaw::kGaussian : BiasLaw::kUniformPhase;
    if (tag == kArchMlpExtended) {
      const uint8_t residual = r.U8();
      if (residual > 1) return absl::DataLossError("spec bytes: bad flag");
      mlp.residual = residual == 1;
      mlp.input_projection_dim = r.I32();
      mlp.input_projection_scale = r.F64();
    }
    return mlp;
  }
  if (tag == kArchGaussNet) {
    GaussNetSpec g;
    g.input_dim = r.I32();
    g.width = r.I32();
    g.sw0 = r.F64();
    g.sb0 = r.F64();
    g.sw1 = r.F64();
    g.sb1 = r.F64();
    return g;
  }
  if (tag == kArchCosNet) {
    CosNetSpec c;
    c.input_dim = r.I32();
    c.width = r.I32();
    c.mass = r.F64();
    c.cutoff = r.F64();
    c.sa = r.F64();
    return c;
  }
  if (nested && tag != kArchMlp && tag != kArchMlpExtended) {
    return absl::DataLossError("spec bytes: OU-net without an MLP");
  }
  if (tag == kArchNullCone) {
    NullConeSpec n;
    n.input_dim = r.I32();
    const uint8_t law = r.U8();
    if (law > 2) return absl::DataLossError("spec bytes: unknown Theta law");
    n.law = static_cast<ThetaLaw>(law);
    n.scale = r.F64();
    n.radii = ReadDoubles(r);
    n.radial_weights = ReadDoubles(r);
    return n;
  }
  if (tag == kArchOuNet) {
    OuNetSpec o;
    o.tau = r.F64();
    o.sigma = r.F64();
    NNFT_ASSIGN_OR_RETURN(Architecture inner,
                          ReadArchitecture(r, /*nested=*/true));
    if (!std::holds_alternative<MlpSpec>(inner)) {
      return absl::DataLossError("spec bytes: OU-net without an MLP");
    }
    o.mlp = std::get<MlpSpec>(inner);
    return o;
  }
  return ReadExtraArchitecture(r, tag);
}

absl::Status ReadReflection(Reader& r, ReflectionSpec& out) {
  out.enabled = true;
  out.axis = r.I32();
  out.include_four_point = r.U8() == 1;
  out.z_threshold = r.F64();
  const uint64_t rows = r.U64(), cols = r.U64();
  const uint64_t max_entries = r.Remaining() / 8;
  if (!r.ok() || rows > max_entries || cols > max_entries ||
      (rows != 0 && cols > max_entries / rows)) {
    return absl::DataLossError("spec bytes: truncated reflection points");
  }
  out.points.resize(static_cast<Eigen::Index>(rows),
                    static_cast<Eigen::Index>(cols));
  for (uint64_t i = 0; i < rows; ++i) {
    for (uint64_t j = 0; j < cols; ++j) out.points(i, j) = r.F64();
  }
  return absl::OkStatus();
}

absl::Status ReadObservables(Reader& r, ObservableSpec& observables) {
  observables.orders.resize(r.Count(4));
  for (int& n : observables.orders) n = r.I32();
  observables.tuples.resize(r.Count(4));
  for (auto& t : observables.tuples) {
    t.resize(r.Count(4));
    for (int& i : t) i = r.I32();
  }
  return absl::OkStatus();
}

std::string ReadString(Reader& r) { return std::string(r.Bytes(r.Count(1))); }

void SetFieldOptions(Architecture& a, int output_dim, std::vector<double> axes,
                     std::vector<double> mean) {
  if (auto* m = std::get_if<MlpSpec>(&a)) {
    m->output_dim = output_dim;
    m->sw0_axes = std::move(axes);
    m->output_mean = std::move(mean);
  } else if (auto* g = std::get_if<GaussNetSpec>(&a)) {
    g->output_dim = output_dim;
    g->sw0_axes = std::move(axes);
    g->output_mean = std::move(mean);
  } else if (auto* c = std::get_if<CosNetSpec>(&a)) {
    c->output_dim = output_dim;
  }
}

absl::Status ReadSymExtension(Reader& r, ExperimentSpec& spec) {
  const int output_dim = r.I32();
  std::vector<double> axes = ReadDoubles(r);
  std::vector<double> mean = ReadDoubles(r);
  SetFieldOptions(spec.architecture, output_dim, std::move(axes),
                  std::move(mean));
  spec.symmetry_checks.resize(r.Count(17));
  for (SymmetryCheck& c : spec.symmetry_checks) {
    const uint8_t kind = r.U8();
    if (kind >
        static_cast<uint8_t>(SymmetryCheck::Kind::kCoordinatePermutation)) {
      return absl::DataLossError("spec bytes: unknown symmetry check kind");
    }
    c.kind = static_cast<SymmetryCheck::Kind>(kind);
    const int32_t rows = r.I32(), cols = r.I32();
    if (rows < 0 || cols < 0 ||
        static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols) * 8 >
            r.Remaining()) {
      return absl::DataLossError("spec bytes: truncated check matrix");
    }
    // An empty matrix is 0 x 0: a zero dimension beside a large one would
    // hold no data yet cost its other dimension in every loop over it.
    if ((rows == 0) != (cols == 0)) {
      return absl::DataLossError(
          "spec bytes: check matrix with one zero dimension");
    }
    c.matrix.resize(rows, cols);
    for (int i = 0; i < rows; ++i) {
      for (int j = 0; j < cols; ++j) c.matrix(i, j) = r.F64();
    }
    const std::vector<double> v = ReadDoubles(r);
    c.vector = Eigen::Map<const Eigen::VectorXd>(v.data(), v.size());
    c.axis = r.I32();
    c.permutation.resize(r.Count(4));
    for (int& k : c.permutation) k = r.I32();
    c.label = ReadString(r);
  }
  spec.cluster_checks.resize(r.Count(20));
  for (ClusterCheck& c : spec.cluster_checks) {
    c.points.resize(r.Count(4));
    for (int& k : c.points) k = r.I32();
    c.component = r.I32();
    const std::vector<double> u = ReadDoubles(r);
    c.direction = Eigen::Map<const Eigen::VectorXd>(u.data(), u.size());
    c.separations = ReadDoubles(r);
    c.label = ReadString(r);
  }
  return absl::OkStatus();
}

}  // namespace

std::string EngineFingerprint() {
  return absl::StrCat("nnft-engine/", kEngineVersion, "; march=", NNFT_MARCH);
}

std::string CanonicalSpecBytes(const ExperimentSpec& spec) {
  return Encode(spec, kModeCanonical);
}

std::string RequestSpecBytes(const ExperimentSpec& spec) {
  return Encode(spec, kModeRequest);
}

std::string SpecDigest(const ExperimentSpec& spec) {
  std::string input = EngineFingerprint();
  input.push_back('\0');
  input += CanonicalSpecBytes(spec);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  // EVP_Digest fails only on allocation failure or a broken OpenSSL.
  if (EVP_Digest(input.data(), input.size(), md, &md_len, EVP_sha256(),
                 nullptr) != 1 ||
      md_len != 32) {
    std::abort();
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(md), md_len));
}

absl::StatusOr<ExperimentSpec> DecodeCanonicalSpec(absl::string_view bytes) {
  Reader r(bytes);
  const size_t magic_len = sizeof(kMagic) - 1;
  if (r.Bytes(magic_len) != absl::string_view(kMagic, magic_len)) {
    return absl::DataLossError("spec bytes: bad magic (not an nnft spec)");
  }
  const uint32_t version = r.U32();
  if (r.ok() && version != kFormatVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("spec bytes: format version ", version,
                     " unknown; this build reads version ", kFormatVersion));
  }
  const uint8_t mode = r.U8();
  if (mode != kModeCanonical && mode != kModeRequest) {
    return absl::DataLossError("spec bytes: unknown mode");
  }
  ExperimentSpec spec;
  NNFT_ASSIGN_OR_RETURN(spec.architecture, ReadArchitecture(r));
  const uint64_t rows = r.U64(), cols = r.U64();
  const uint64_t max_entries = r.Remaining() / 8;
  if (!r.ok() || rows > max_entries || cols > max_entries ||
      (rows != 0 && cols > max_entries / rows)) {
    return absl::DataLossError("spec bytes: truncated points");
  }
  spec.points.resize(static_cast<Eigen::Index>(rows),
                     static_cast<Eigen::Index>(cols));
  for (uint64_t i = 0; i < rows; ++i) {
    for (uint64_t j = 0; j < cols; ++j) spec.points(i, j) = r.F64();
  }
  NNFT_RETURN_IF_ERROR(ReadObservables(r, spec.observables));
  spec.sampling.seed = r.U64();
  spec.sampling.chunk_size = r.I32();
  const uint8_t precision = r.U8();
  const uint8_t integrate = r.U8();
  if (r.ok() && !r.AtEnd() && r.Peek() == kReflectionTag) {
    r.U8();
    NNFT_RETURN_IF_ERROR(ReadReflection(r, spec.reflection));
  }
  if (r.ok() && !r.AtEnd() && r.Peek() == kTrainingTag) {
    r.U8();
    NNFT_ASSIGN_OR_RETURN(spec.training, ReadTraining(r));
  }
  if (r.ok() && !r.AtEnd() && r.Peek() == kSectionWidthSweep) {
    r.U8();
    spec.width_sweep.resize(r.Count(4));
    for (int& n : spec.width_sweep) n = r.I32();
  }
  NNFT_RETURN_IF_ERROR(ReadInteractions(r, spec));
  if (!r.ok()) return absl::DataLossError("spec bytes: truncated");
  if (!r.AtEnd()) return absl::DataLossError("spec bytes: trailing bytes");
  if (precision > 1 || integrate > 1) {
    return absl::DataLossError("spec bytes: bad precision or flag");
  }
  spec.sampling.precision =
      precision == 0 ? Precision::kFloat64 : Precision::kFloat32;
  spec.sampling.integrate_output_layer = integrate == 1;
  spec.sampling.num_networks = int64_t{2} * spec.sampling.chunk_size;
  return spec;
}

}  // namespace nnft::server
