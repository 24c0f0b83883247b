// The estimator families of the coverage study (nnft-coverage). A study runs
// one experiment per seed through the core (engine, estimate, theory,
// analyses) and returns one entry per row, so the K entries of a row are
// independent; each entry is a z-score against an exact value (or, for
// chi-square statistics, a p-value). Exact values come from the project's
// exact theories; where none exists at finite width the study says what it
// compares against instead (Study::exact).
#ifndef NNFT_TESTS_BENCH_COVERAGE_FAMILIES_H_
#define NNFT_TESTS_BENCH_COVERAGE_FAMILIES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/estimate/estimate.h"
#include "core/sampling/engine.h"
#include "core/spec/spec.h"
#include "core/theory/theory.h"
#include "tests/bench/coverage_stats.h"

namespace nnft::coverage {

struct Row {
  std::string name;
  Reference reference = Reference::kStudentT;
  int dof = 0;  // Student-t degrees of freedom (bins - 1)
};

struct Study {
  std::string name;   // the key of --families
  std::string setup;  // architecture, points, networks per seed
  std::string exact;  // what the entries are compared with
  int default_seeds = 200;
  std::vector<Row> rows;
  // Work shared by every seed (a reference run); may be empty. Called once,
  // before the first seed.
  std::function<void(int threads)> prepare;
  // One experiment with `seed`: rows.size() samples, in row order.
  std::function<std::vector<Sample>(uint64_t seed, int threads)> run;
  // Figures beyond z that the study gathered over its seeds (for example a
  // ratio of standard errors), printed under the table; may be empty.
  std::function<std::string()> notes;
};

// Every study, cheap ones first.
std::vector<Study> AllStudies();

// --- helpers shared by the studies' files ---

// A finished Monte Carlo run: the engine (its spec and tuples), the
// accumulator over every chunk in chunk order, its estimate, and the exact
// theory of the engine's spec. Aborts with a message on any error (the
// studies' specs are fixed, so an error is a bug).
struct McRun {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<MomentAccumulator> acc;
  CorrelatorEstimate estimate;
  TheoryValues theory;
};
McRun RunMc(const ExperimentSpec& spec, int threads, bool with_theory = true);

// Index of `tuple` in estimate.tuples; aborts when absent.
int EntryOf(const CorrelatorEstimate& estimate, const Tuple& tuple);

// (value - exact) / stderr; NaN unless stderr is finite and positive.
double Z(double value, double stderr_value, double exact);

// A P x 1 matrix of points.
Eigen::MatrixXd Points1d(const std::vector<double>& xs);

// Aborts with `what` and the status unless it is OK.
void CheckOk(const absl::Status& status, const char* what);

std::vector<Study> BasicStudies();     // coverage_basic.cc
std::vector<Study> AnalysisStudies();  // coverage_analyses.cc

}  // namespace nnft::coverage

#endif  // NNFT_TESTS_BENCH_COVERAGE_FAMILIES_H_
