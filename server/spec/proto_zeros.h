// Sign of zero in spec messages. -0.0 and 0.0 are one number to a user but
// two bit patterns to the canonical spec bytes (server/spec/digest.h), and
// protobuf's JSON printer writes -0.0 as "-0", which its parser reads back as
// +0. SpecFromProto therefore reads every floating-point field with the sign
// of zero cleared, so that the binary and JSON forms of a spec share one
// digest.
#ifndef NNFT_SERVER_SPEC_PROTO_ZEROS_H_
#define NNFT_SERVER_SPEC_PROTO_ZEROS_H_

#include "google/protobuf/message.h"

namespace nnft::server {

// Replaces every -0.0 in the double and float fields of `message` and of the
// messages it holds (singular, repeated, oneof) by +0.0. Unset fields stay
// unset; nothing else changes.
void ClearNegativeZeros(google::protobuf::Message* message);

}  // namespace nnft::server

#endif  // NNFT_SERVER_SPEC_PROTO_ZEROS_H_
