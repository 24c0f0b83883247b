// Proto <-> core conversion of the multi-component field options
// (output_dim, sw0_axes, output_mean) and of the symmetry and cluster
// checks (proto/nnft/v1/spec.proto, fields 20-29). Values are copied as
// given; core's Validate checks them.
#ifndef NNFT_SERVER_SPEC_SPEC_PROTO_SYM_H_
#define NNFT_SERVER_SPEC_SPEC_PROTO_SYM_H_

#include "core/spec/spec.h"
#include "nnft/v1/spec.pb.h"

namespace nnft::server {

// Fills output_dim (0 -> 1), sw0_axes, output_mean of `architecture` from
// the proto's architecture of the same kind.
void FieldOptionsFromProto(const v1::Architecture& proto,
                           Architecture& architecture);
void FieldOptionsToProto(const Architecture& architecture,
                         v1::Architecture* proto);

// Symmetry and cluster checks. `d`, `dout`: the architecture's input and
// output dimensions (a row-major matrix of n * n values becomes n x n;
// any other count is kept as a 1 x count matrix for Validate to reject).
void ChecksFromProto(const v1::ExperimentSpec& proto, int d, int dout,
                     ExperimentSpec& spec);
void ChecksToProto(const ExperimentSpec& spec, v1::ExperimentSpec* proto);

}  // namespace nnft::server

#endif  // NNFT_SERVER_SPEC_SPEC_PROTO_SYM_H_
