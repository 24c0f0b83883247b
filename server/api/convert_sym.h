// Symmetry and cluster check results to proto (ResultHeader fields 20, 21).
#ifndef NNFT_SERVER_API_CONVERT_SYM_H_
#define NNFT_SERVER_API_CONVERT_SYM_H_

#include "core/analyses/symmetry_estimate.h"
#include "nnft/v1/nnft.pb.h"

namespace nnft::server {

// Per-tuple arrays of all symmetry results together stay within this many
// entries (at least 16 per check), keeping the header small; the summaries
// cover every tuple.
inline constexpr int kMaxSymmetryEntries = 4096;

void CheckResultsToProto(const CheckResults& checks, v1::ResultHeader* header);
// The same checks in a watch update (JobUpdate fields 20, 21).
void CheckResultsToProto(const CheckResults& checks, v1::JobUpdate* update);

}  // namespace nnft::server

#endif  // NNFT_SERVER_API_CONVERT_SYM_H_
