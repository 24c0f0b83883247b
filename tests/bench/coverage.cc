// nnft-coverage: are the error bars honest? For each estimator family, K
// independent seeds against exact values (tests/bench/coverage_families.h),
// printed as a Markdown table: the fraction within 1, 2, 3 standard errors,
// the mean and spread of z, a Kolmogorov-Smirnov test against the reference
// distribution, the share of entries whose reliability verdict is not OK and
// the wall time. A measurement for people (docs/error_bars.md), not a test.
//
//   nnft-coverage [--families=moments,reflection,...] [--seeds=K]
//                 [--threads=2] [--csv=FILE] [--dump=FILE] [--list]
//
// --seeds overrides every family's default K (200; 100 for the costly ones).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/bench/coverage_families.h"

namespace nnft::coverage {
namespace {

struct Flags {
  std::vector<std::string> families;  // empty: all
  int seeds = 0;                      // 0: each family's default
  int threads = 2;
  std::string csv;
  std::string dump;  // every sample: study, row, seed, value, flagged
  bool list = false;
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const size_t eq = a.find('=');
    const std::string key = a.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (key == "--families") {
      f->families = absl::StrSplit(value, ',', absl::SkipEmpty());
    } else if (key == "--seeds") {
      if (!absl::SimpleAtoi(value, &f->seeds) || f->seeds < 2 ||
          f->seeds > 100000) {
        std::fprintf(stderr, "--seeds=%s: must be in [2, 100000]\n",
                     value.c_str());
        return false;
      }
    } else if (key == "--threads") {
      if (!absl::SimpleAtoi(value, &f->threads) || f->threads < 0 ||
          f->threads > 1024) {
        std::fprintf(stderr, "--threads=%s: must be in [0, 1024]\n",
                     value.c_str());
        return false;
      }
    } else if (key == "--csv") {
      f->csv = value;
    } else if (key == "--dump") {
      f->dump = value;
    } else if (key == "--list") {
      f->list = true;
    } else {
      std::fprintf(stderr,
                   "unknown flag %s: use --families=a,b, --seeds=K, "
                   "--threads=N, --csv=FILE, --dump=FILE, --list\n",
                   a.c_str());
      return false;
    }
  }
  return true;
}

std::string ReferenceName(const Row& row) {
  switch (row.reference) {
    case Reference::kNormal:
      return "N(0,1)";
    case Reference::kStudentT:
      return absl::StrFormat("t(%d)", row.dof);
    case Reference::kUniform:
      return "U(0,1) p";
  }
  return "";
}

struct Line {
  const Study* study;
  Row row;
  Summary summary;
  double seconds;
};

void PrintTable(const std::vector<Line>& lines) {
  std::printf(
      "| family | K | within 1 / 2 / 3 sigma | 2-sigma expected | mean z | "
      "sd z | KS D (p) | reference | not OK | misses >= 3 sigma flagged | "
      "s | calibration |\n");
  std::printf(
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | "
      "--- |\n");
  for (const Line& l : lines) {
    const Summary& s = l.summary;
    std::printf(
        "| %s | %d | %.3f / %.3f / %.3f | %.3f +- %.3f | %+.3f | %.3f | "
        "%.3f (%.2g) | %s | %.1f%% | %d / %d | %.0f | %s |\n",
        l.row.name.c_str(), s.k, s.within1, s.within2, s.within3, s.expected2,
        s.binomial_sd2, s.mean, s.sd, s.ks_d, s.ks_p,
        ReferenceName(l.row).c_str(), 100 * s.flagged_share, s.misses3_flagged,
        s.misses3, l.seconds, s.calibration.c_str());
  }
}

bool WriteCsv(const std::string& path, const std::vector<Line>& lines) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  std::fprintf(f,
               "study,family,k,within1,within2,within3,expected2,"
               "binomial_sd2,mean,sd,ks_d,ks_p,reference,flagged_share,"
               "misses3,misses3_flagged,seconds,calibration\n");
  for (const Line& l : lines) {
    const Summary& s = l.summary;
    std::fprintf(f,
                 "%s,%s,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4g,%s,"
                 "%.4f,%d,%d,%.1f,%s\n",
                 l.study->name.c_str(), l.row.name.c_str(), s.k, s.within1,
                 s.within2, s.within3, s.expected2, s.binomial_sd2, s.mean,
                 s.sd, s.ks_d, s.ks_p, ReferenceName(l.row).c_str(),
                 s.flagged_share, s.misses3, s.misses3_flagged, l.seconds,
                 s.calibration.c_str());
  }
  return std::fclose(f) == 0;
}

int Main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;
  const std::vector<Study> studies = AllStudies();
  if (flags.list) {
    for (const Study& s : studies) {
      std::printf("%-12s K=%d  %s\n  exact: %s\n", s.name.c_str(),
                  s.default_seeds, s.setup.c_str(), s.exact.c_str());
    }
    return 0;
  }
  std::vector<const Study*> chosen;
  for (const Study& s : studies) {
    bool wanted = flags.families.empty();
    for (const std::string& f : flags.families) wanted |= f == s.name;
    if (wanted) chosen.push_back(&s);
  }
  for (const std::string& f : flags.families) {
    bool known = false;
    for (const Study& s : studies) known |= f == s.name;
    if (!known) {
      std::vector<std::string> names;
      for (const Study& s : studies) names.push_back(s.name);
      std::fprintf(stderr, "--families: unknown family %s (known: %s)\n",
                   f.c_str(), absl::StrJoin(names, ",").c_str());
      return 2;
    }
  }
  std::string command = "nnft-coverage";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  const auto start = std::chrono::steady_clock::now();
  std::vector<Line> lines;
  FILE* dump =
      flags.dump.empty() ? nullptr : std::fopen(flags.dump.c_str(), "w");
  if (!flags.dump.empty() && dump == nullptr) {
    std::fprintf(stderr, "cannot write %s\n", flags.dump.c_str());
    return 1;
  }
  if (dump != nullptr) std::fprintf(dump, "study,family,seed,value,flagged\n");
  for (const Study* study : chosen) {
    const int k = flags.seeds > 0 ? flags.seeds : study->default_seeds;
    const auto t0 = std::chrono::steady_clock::now();
    if (study->prepare) study->prepare(flags.threads);
    std::vector<std::vector<Sample>> samples(study->rows.size());
    for (int seed = 1; seed <= k; ++seed) {
      const std::vector<Sample> one = study->run(seed, flags.threads);
      for (size_t r = 0; r < one.size(); ++r) {
        samples[r].push_back(one[r]);
        if (dump != nullptr) {
          std::fprintf(dump, "%s,%s,%d,%.6g,%d\n", study->name.c_str(),
                       study->rows[r].name.c_str(), seed, one[r].value,
                       one[r].flagged ? 1 : 0);
        }
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    std::fprintf(stderr, "%s: K=%d, %.1f s\n", study->name.c_str(), k, seconds);
    for (size_t r = 0; r < study->rows.size(); ++r) {
      const Row& row = study->rows[r];
      lines.push_back(
          {study, row, Summarise(samples[r], row.reference, row.dof), seconds});
    }
  }
  if (dump != nullptr) std::fclose(dump);
  const double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("`%s`: %.0f s wall, %d threads\n\n", command.c_str(), total,
              flags.threads);
  PrintTable(lines);
  std::printf("\n");
  for (const Study* s : chosen) {
    std::printf("- %s: %s; exact: %s\n", s->name.c_str(), s->setup.c_str(),
                s->exact.c_str());
    if (s->notes) std::printf("  %s\n", s->notes().c_str());
  }
  if (!flags.csv.empty() && !WriteCsv(flags.csv, lines)) {
    std::fprintf(stderr, "cannot write %s\n", flags.csv.c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace nnft::coverage

int main(int argc, char** argv) { return nnft::coverage::Main(argc, argv); }
