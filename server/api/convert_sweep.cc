// Width sweeps, core -> proto: per-width blocks, fits, the live update and
// the result stream's sweep pieces. See convert.h.
#include <algorithm>
#include <cmath>

#include "core/analyses/experiment_result.h"
#include "core/analyses/width_sweep.h"
#include "server/api/convert.h"

namespace nnft::server {
namespace {

// Serialised-size bounds (see convert.cc): an entry of a width block adds
// two doubles of deviation to an EntryBlock entry and its EntryReliability;
// a fit is a tuple and fourteen scalars.
constexpr int64_t kMaxSweepEntryBytes = 32 + 14 * 8 + kMaxReliabilityBytes;
constexpr int64_t kMaxFitBytes = 32 + 14 * 10;
constexpr int64_t kOverheadBytes = 4096;
constexpr int64_t kSweepEntriesPerBlock =
    (kMaxPieceBytes - kOverheadBytes) / kMaxSweepEntryBytes;
constexpr int64_t kFitsPerBlock =
    (kMaxPieceBytes - kOverheadBytes) / kMaxFitBytes;

constexpr char kFitMethod[] =
    "weighted least squares of log|G_c| on log N, sigma = stderr/|G_c|; "
    "widths with |G_c| < 2 stderr dropped; errors not rescaled by chi2/dof";

template <typename T>
void AppendSlice(const std::vector<T>& values, int64_t begin, int64_t end,
                 google::protobuf::RepeatedField<T>* out) {
  end = std::min<int64_t>(end, values.size());
  if (begin < end) out->Add(values.begin() + begin, values.begin() + end);
}

// One width's entries [begin, end): estimate, theory and z-scores (when
// known; `comparisons` are core's, over all the width's entries) and
// deviation.
void FillWidthBlock(int width, int index, const CorrelatorEstimate& e,
                    const TheoryValues* theory,
                    const TheoryComparisons* comparisons,
                    const std::vector<double>& deviation,
                    const std::vector<double>& background, int64_t begin,
                    int64_t end, v1::SweepWidthBlock* out) {
  out->set_width(width);
  out->set_width_index(index);
  v1::EntryBlock* block = out->mutable_entries();
  block->set_offset(begin);
  EstimateToProto(e, begin, end, block->mutable_estimate());
  if (theory != nullptr) {
    TheoryToProto(*theory, begin, end, block->mutable_theory());
  }
  if (comparisons != nullptr) {
    AppendSlice(comparisons->vs_exact.z, begin, end, block->mutable_z_exact());
    AppendSlice(comparisons->vs_exact_connected.z, begin, end,
                block->mutable_z_exact_connected());
    AppendSlice(comparisons->vs_gp.z, begin, end, block->mutable_z_gp());
  }
  AppendSlice(deviation, begin, end, out->mutable_deviation());
  AppendSlice(background, begin, end, out->mutable_deviation_background());
}

}  // namespace

void PowerLawFitToProto(const PowerLawFit& fit, v1::PowerLawFit* out) {
  out->mutable_tuple()->mutable_index()->Add(fit.tuple.begin(),
                                             fit.tuple.end());
  out->set_order(fit.order);
  out->set_exponent(fit.exponent);
  out->set_exponent_stderr(fit.exponent_stderr);
  out->set_amplitude(fit.amplitude);
  out->set_amplitude_stderr(fit.amplitude_stderr);
  out->set_chi2(fit.chi2);
  out->set_dof(fit.dof);
  out->set_chi2_per_dof(fit.chi2_per_dof);
  out->set_widths_used(fit.widths_used);
  out->set_widths_dropped(fit.widths_dropped);
  out->set_expected_exponent(fit.expected_exponent);
  out->set_z(fit.z);
  out->set_entry(fit.entry);
}

void SweepUpdateToProto(const JobSnapshot& job, int max_entries,
                        v1::WidthSweepUpdate* out) {
  std::vector<int> widths;
  std::vector<const CorrelatorEstimate*> estimates;
  std::vector<const TheoryValues*> theories;
  for (const SweepWidthSnapshot& w : job.sweep) {
    out->add_widths(w.width);
    widths.push_back(w.width);
    estimates.push_back(w.estimate ? &*w.estimate : nullptr);
    theories.push_back(w.theory.get());
  }
  const RunningSweepAnalysis running =
      AnalyseRunningSweep(widths, estimates, theories);
  const WidthSweepAnalysis& analysis = running.analysis;
  for (size_t i = 0; i < job.sweep.size(); ++i) {
    if (estimates[i] == nullptr) continue;
    v1::SweepWidthBlock* block = out->add_blocks();
    const std::optional<TheoryComparisons>& c = running.comparisons[i];
    FillWidthBlock(widths[i], static_cast<int>(i), *estimates[i], theories[i],
                   c ? &*c : nullptr, analysis.deviation[i],
                   analysis.deviation_background[i], 0, max_entries, block);
    block->set_chunks_done(job.sweep[i].chunks_done);
    block->set_chunks_total(job.sweep[i].chunks_total);
  }
  const int fits = std::min<int>(max_entries, analysis.fits.size());
  for (int i = 0; i < fits; ++i) {
    PowerLawFitToProto(analysis.fits[i], out->add_fits());
  }
}

void SweepSummaryToProto(const SweepResult& sweep, v1::WidthSweepSummary* out) {
  for (const SweepWidthResult& w : sweep.widths) {
    out->add_widths(w.width);
    out->add_digests(w.digest);
    *out->add_vs_exact() = SummaryToProto(w.vs_exact);
    *out->add_vs_exact_connected() = SummaryToProto(w.vs_exact_connected);
  }
  out->set_entries_per_width(
      sweep.widths.empty() ? 0 : sweep.widths[0].estimate.tuples.size());
  out->set_num_fits(static_cast<int64_t>(sweep.analysis.fits.size()));
  out->set_fit_method(kFitMethod);
}

void SweepWidthToProto(const SweepResult& sweep, int w, int64_t begin,
                       int64_t end, v1::SweepWidthBlock* out) {
  const SweepWidthResult& r = sweep.widths[w];
  FillWidthBlock(r.width, w, r.estimate, &r.theory, &r,
                 sweep.analysis.deviation[w],
                 sweep.analysis.deviation_background[w], begin, end, out);
  out->set_chunks_done(r.estimate.chunks);
  out->set_chunks_total(r.estimate.chunks);
}

bool ResultPieces::NextSweep(v1::ResultPiece* piece) {
  const SweepResult& sweep = *result_->sweep;
  const int widths = static_cast<int>(sweep.widths.size());
  while (next_width_ < widths) {
    const int64_t entries =
        static_cast<int64_t>(sweep.widths[next_width_].estimate.tuples.size());
    if (next_width_entry_ < entries) {
      const int64_t end =
          std::min(entries, next_width_entry_ + kSweepEntriesPerBlock);
      SweepWidthToProto(sweep, next_width_, next_width_entry_, end,
                        piece->mutable_sweep_width());
      next_width_entry_ = end;
      return true;
    }
    ++next_width_;
    next_width_entry_ = 0;
  }
  const int64_t fits = static_cast<int64_t>(sweep.analysis.fits.size());
  if (next_fit_ < fits) {
    const int64_t end = std::min(fits, next_fit_ + kFitsPerBlock);
    v1::SweepFitBlock* block = piece->mutable_sweep_fits();
    block->set_offset(next_fit_);
    for (int64_t i = next_fit_; i < end; ++i) {
      PowerLawFitToProto(sweep.analysis.fits[i], block->add_fits());
    }
    next_fit_ = end;
    return true;
  }
  return false;
}

}  // namespace nnft::server
