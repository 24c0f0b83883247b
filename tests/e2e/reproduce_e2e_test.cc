// End-to-end: `nnft reproduce` against the real nnft-server. --list names
// the five studies of deploy/reproduce; the null-cone study rerun with 2·10^4
// networks (the studies' fixed seeds) agrees with the published values (mu4
// of Theta uniform on S^5 is 3/(n(n+2)) = 1/16, within 4 standard errors),
// prints its table and writes its CSV; an unknown study is a usage error.
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/e2e/harness.h"

namespace nnft::e2e {
namespace {

std::string StudyDir() {
  return std::string("--reproduce_dir=") + NNFT_SOURCE_DIR +
         "/deploy/reproduce";
}

class ReproduceE2eTest : public ServerTest {};

TEST_F(ReproduceE2eTest, ListNamesTheFiveStudies) {
  const CliRun run = RunCli({"reproduce", "--list", StudyDir()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  for (const char* id : {"mn-falloff", "cosnet-phi4", "null-cone-conformal",
                         "so-n-symmetry", "relu-running"}) {
    EXPECT_TRUE(absl::StrContains(run.out, id)) << id << "\n" << run.out;
  }
  EXPECT_TRUE(absl::StrContains(run.out, "2409.12222")) << run.out;
}

TEST_F(ReproduceE2eTest, NullConeStudyAgreesWithThePublishedValues) {
  const std::string out_dir = tmp_.path() + "/repro";
  const CliRun run =
      RunCli({Server(), "reproduce", "null-cone-conformal", StudyDir(),
              "--num_networks=20000", "--out_dir=" + out_dir});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_TRUE(absl::StrContains(run.out, "5 of 5 quantities agree")) << run.out;
  std::ifstream csv(out_dir + "/null-cone-conformal.csv");
  ASSERT_TRUE(csv) << "no CSV written";
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "quantity,published,nnft,stderr,z,difference,agrees,source");
  std::getline(csv, line);  // the mu4 row
  ASSERT_TRUE(absl::StartsWith(line, "\"mu4 = E[Theta_1^4]")) << line;
  const std::vector<std::string> cells = absl::StrSplit(line, "\",");
  ASSERT_GE(cells.size(), 3u) << line;
  const std::vector<std::string> numbers = absl::StrSplit(cells[2], ',');
  ASSERT_GE(numbers.size(), 4u) << line;
  double nnft_mu4 = 0, err = 0;
  ASSERT_TRUE(absl::SimpleAtod(numbers[0], &nnft_mu4)) << line;
  ASSERT_TRUE(absl::SimpleAtod(numbers[1], &err)) << line;
  ASSERT_GT(err, 0);
  EXPECT_LT(std::abs(nnft_mu4 - 0.0625), 4 * err) << line;
}

TEST_F(ReproduceE2eTest, UnknownStudyIsAUsageErrorNamingTheKnownOnes) {
  const CliRun run =
      RunCli({Server(), "reproduce", "no-such-study", StudyDir()});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(run.err, "relu-running")) << run.err;
}

}  // namespace
}  // namespace nnft::e2e
