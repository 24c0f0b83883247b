// Every experiment file shipped in deploy/examples parses with the CLI's
// reader and passes the server's conversion and validation, so the README's
// examples and the demo cannot drift from the API.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "client/cli/spec_file.h"
#include "gtest/gtest.h"
#include "server/spec/spec_proto.h"

namespace nnft::client::cli {
namespace {

std::vector<std::string> ExampleFiles() {
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(NNFT_EXAMPLES_DIR)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  return files;
}

TEST(ExamplesTest, EveryExampleParsesAndValidates) {
  const std::vector<std::string> files = ExampleFiles();
  ASSERT_GE(files.size(), 3u);
  for (const std::string& file : files) {
    absl::StatusOr<nnft::v1::ExperimentSpec> proto = ReadSpecFile(file);
    ASSERT_TRUE(proto.ok()) << proto.status();
    absl::StatusOr<ExperimentSpec> spec = server::SpecFromProto(*proto);
    EXPECT_TRUE(spec.ok()) << file << ": " << spec.status();
  }
}

TEST(ExamplesTest, DemoTemplateIsAWidthSweepTheDemoCanRewrite) {
  // deploy/demo.sh rewrites `"width_sweep": {"widths": [...]}` with sed.
  std::ifstream in(std::string(NNFT_EXAMPLES_DIR) + "/erf_width_sweep.json");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("\"width_sweep\": {\"widths\": [2, 3, 4, 6, 8, "
                            "12, 16, 32]}"),
            std::string::npos);
  absl::StatusOr<nnft::v1::ExperimentSpec> proto =
      ParseSpecJson(text.str(), "erf_width_sweep.json");
  ASSERT_TRUE(proto.ok()) << proto.status();
  EXPECT_EQ(proto->width_sweep().widths_size(), 8);
  ASSERT_EQ(proto->observables().tuples_size(), 3);
  EXPECT_EQ(proto->observables().tuples(1).index_size(), 4);
  EXPECT_EQ(proto->observables().tuples(2).index_size(), 6);
  EXPECT_TRUE(proto->sampling().integrate_output_layer());
}

}  // namespace
}  // namespace nnft::client::cli
