// Table form of the symmetry and cluster check results in a result header
// (`nnft result --format table`).
#ifndef NNFT_CLIENT_CLI_FORMAT_SYM_H_
#define NNFT_CLIENT_CLI_FORMAT_SYM_H_

#include <string>

#include "nnft/v1/nnft.pb.h"

namespace nnft::client::cli {

// One line per symmetry check (kind, chi2/dof, max |z| against its
// threshold, verdict), then one table per cluster check (s, D(s) +- err,
// theory, z, the decay fits). "" when the header has no checks.
std::string ChecksTable(const nnft::v1::ResultHeader& header);

}  // namespace nnft::client::cli

#endif  // NNFT_CLIENT_CLI_FORMAT_SYM_H_
