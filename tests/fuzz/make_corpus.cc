// Writes seed inputs for the fuzz harnesses into DIR/{spec_json,spec_proto,
// digest,chunk}: the example specs of deploy/examples (given as arguments) in
// their JSON, binary-proto and stored-bytes forms, and encoded chunk blobs
// with their checksums. Generated at test time, so the seeds always match the
// current encodings: `fuzz_make_corpus DIR SPEC.json...`.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/spec/digest.h"
#include "server/spec/spec_proto.h"
#include "server/store/store.h"

namespace {

void Write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string ChunkInput(const std::vector<double>& sums) {
  const std::string blob = nnft::server::EncodeChunkBlob(sums);
  const uint32_t crc = nnft::server::Crc32(blob);
  std::string input(4, '\0');
  std::memcpy(input.data(), &crc, 4);
  return input + blob;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: fuzz_make_corpus DIR SPEC.json...\n");
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  for (const char* sub : {"spec_json", "spec_proto", "digest", "chunk"}) {
    std::filesystem::create_directories(dir / sub);
  }
  int written = 0;
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    const std::string json((std::istreambuf_iterator<char>(in)),
                           std::istreambuf_iterator<char>());
    absl::StatusOr<nnft::v1::ExperimentSpec> proto =
        nnft::server::SpecProtoFromJson(json);
    if (!proto.ok()) {
      std::fprintf(stderr, "%s: %s\n", argv[i],
                   std::string(proto.status().message()).c_str());
      return 1;
    }
    const std::string name = absl::StrCat("seed", i - 1);
    Write(dir / "spec_json" / name, json);
    Write(dir / "spec_proto" / name, proto->SerializeAsString());
    absl::StatusOr<nnft::ExperimentSpec> spec =
        nnft::server::SpecFromProto(*proto);
    if (spec.ok()) {
      Write(dir / "digest" / name, nnft::server::RequestSpecBytes(*spec));
      Write(dir / "digest" / (name + "c"),
            nnft::server::CanonicalSpecBytes(*spec));
    }
    ++written;
  }
  Write(dir / "chunk" / "empty", ChunkInput({}));
  Write(dir / "chunk" / "three", ChunkInput({1.0, -2.5, 1e300}));
  Write(dir / "chunk" / "bad_crc", std::string(4, '\x7f') + "12345678");
  std::printf("wrote seeds of %d specs to %s\n", written, dir.c_str());
  return 0;
}
