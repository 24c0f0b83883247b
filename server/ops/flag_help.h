// --help for the project's binaries that parse flags with Abseil
// (nnft-mpi-worker, nnft-healthcheck): the usage message and the binary's
// own flags on stdout, exit status 0, before any other start-up (no MPI_Init,
// no channel).
//
// Abseil's own --help lists only the flags defined in a file named after the
// program (nnft-mpi-worker.cc, nnft-mpi-worker_main.cc, ...), so flags
// defined in mpi_worker_main.cc printed "No flags matched", and it exits 1.
// Here every flag defined outside Abseil is listed; Abseil's own flags stay
// under --helpfull.
#ifndef NNFT_SERVER_OPS_FLAG_HELP_H_
#define NNFT_SERVER_OPS_FLAG_HELP_H_

#include "absl/strings/string_view.h"

namespace nnft::server {

// Points Abseil's --helpshort at the binary's own flags and, when argv holds
// `--help`, `-help` or `-h` before any `--`, prints
// "<program>: <usage message>" and the own flags (name, help, default) on
// stdout and returns true: the caller then exits 0. Call after
// absl::SetProgramUsageMessage and before absl::ParseCommandLine.
// Not thread-safe (call it first thing in main).
bool HandleHelp(int argc, char** argv, absl::string_view program);

}  // namespace nnft::server

#endif  // NNFT_SERVER_OPS_FLAG_HELP_H_
