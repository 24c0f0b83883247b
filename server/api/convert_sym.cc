// Check results to proto (server/api/convert_sym.h).
#include "server/api/convert_sym.h"

#include <algorithm>

namespace nnft::server {
namespace {

void FitToProto(const DecayFit& f, v1::DecayFit* p) {
  p->set_model(f.model);
  p->set_amplitude(f.amplitude);
  p->set_scale(f.scale);
  p->set_scale_stderr(f.scale_stderr);
  p->set_chi2_per_dof(f.chi2_per_dof);
  p->set_points(f.points);
}

void SymmetryToProto(const SymmetryResult& r, size_t max_entries,
                     v1::SymmetryResult* p) {
  p->set_label(r.label);
  p->set_kind(r.kind);
  const size_t n = std::min(r.tuples.size(), max_entries);
  for (size_t i = 0; i < n; ++i) {
    p->add_tuples()->mutable_index()->Add(r.tuples[i].begin(),
                                          r.tuples[i].end());
    p->add_difference(r.difference[i]);
    p->add_stderr(r.stderr_difference[i]);
    p->add_z(r.z[i]);
  }
  p->set_chi2(r.chi2);
  p->set_dof(r.dof);
  p->set_chi2_per_dof(r.chi2_per_dof);
  p->set_max_abs_z(r.max_abs_z);
  p->set_z_threshold(r.z_threshold);
  p->set_consistent(r.consistent);
  p->set_num_tuples(static_cast<int64_t>(r.tuples.size()));
  p->set_hotelling_t2(r.hotelling_t2);
  p->set_p_value(r.p_value_correlated);
}

void ClusterToProto(const ClusterResult& r, v1::ClusterResult* p) {
  p->set_label(r.label);
  p->mutable_separations()->Add(r.separations.begin(), r.separations.end());
  p->mutable_value()->Add(r.value.begin(), r.value.end());
  p->mutable_stderr()->Add(r.stderr_value.begin(), r.stderr_value.end());
  p->mutable_theory()->Add(r.theory.begin(), r.theory.end());
  p->set_theory_kind(r.theory_kind);
  p->mutable_z_theory()->Add(r.z_theory.begin(), r.z_theory.end());
  FitToProto(r.exponential, p->mutable_exponential());
  FitToProto(r.gaussian, p->mutable_gaussian());
  FitToProto(r.power, p->mutable_power());
  p->set_preferred(r.preferred);
  p->set_z_last(r.z_last);
}

// Into any message with `repeated SymmetryResult symmetry` and
// `repeated ClusterResult cluster`.
template <typename Message>
void AddChecks(const CheckResults& checks, Message* out) {
  const size_t per_check =
      checks.symmetry.empty()
          ? 0
          : std::max<size_t>(16, kMaxSymmetryEntries / checks.symmetry.size());
  for (const SymmetryResult& r : checks.symmetry) {
    SymmetryToProto(r, per_check, out->add_symmetry());
  }
  for (const ClusterResult& r : checks.cluster) {
    ClusterToProto(r, out->add_cluster());
  }
}

}  // namespace

void CheckResultsToProto(const CheckResults& checks, v1::ResultHeader* header) {
  AddChecks(checks, header);
}

void CheckResultsToProto(const CheckResults& checks, v1::JobUpdate* update) {
  AddChecks(checks, update);
}

}  // namespace nnft::server
