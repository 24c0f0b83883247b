// The batch_scan figure of nnft-service-bench: a scan of N small specs
// submitted at once with SubmitBatch against the same N specs (other seeds)
// submitted by 8 SubmitExperiment clients, each on a fresh server.
#ifndef NNFT_TESTS_BENCH_BATCH_SCAN_H_
#define NNFT_TESTS_BENCH_BATCH_SCAN_H_

#include <cstdint>
#include <string>

#include "nnft/v1/nnft.pb.h"

namespace nnft::bench {

struct BatchScanOptions {
  // Specs in the scan (one SubmitBatch call); >= 1.
  int entries = 10000;
  // Worker threads of each started server.
  int threads = 2;
  // A running server to use instead of starting two (RSS is then not
  // measured); "" starts build/bin/nnft-server twice.
  std::string server = "";
  // Seeds of the scan: seed_base + i, and seed_base + entries + i for the
  // clients' run, so no spec is answered from the other run's chunks.
  uint64_t seed_base = 1;
};

// Prints one JSON line per mode ("batch", "clients"): seconds until every
// spec was acknowledged, seconds until every job SUCCEEDED, failures, and
// the server's RSS before and after, in MiB (-1 when not measured).
// Returns false when a run failed to start.
bool BatchScan(const BatchScanOptions& options);

// The tiny job of the service figures: two 100-network chunks of a width-8
// erf net at two points, orders {2}.
v1::ExperimentSpec TinyProto(uint64_t seed,
                             const std::string& label = "service-bench tiny");

}  // namespace nnft::bench

#endif  // NNFT_TESTS_BENCH_BATCH_SCAN_H_
