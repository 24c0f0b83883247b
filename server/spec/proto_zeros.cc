// See proto_zeros.h.
#include "server/spec/proto_zeros.h"

#include <cmath>

namespace nnft::server {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

bool NegativeZero(double v) { return v == 0.0 && std::signbit(v); }

void ClearField(Message* m, const Reflection* r, const FieldDescriptor* f) {
  if (f->is_repeated()) {
    const int n = r->FieldSize(*m, f);
    for (int i = 0; i < n; ++i) {
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_DOUBLE:
          if (NegativeZero(r->GetRepeatedDouble(*m, f, i))) {
            r->SetRepeatedDouble(m, f, i, 0.0);
          }
          break;
        case FieldDescriptor::CPPTYPE_FLOAT:
          if (NegativeZero(r->GetRepeatedFloat(*m, f, i))) {
            r->SetRepeatedFloat(m, f, i, 0.0f);
          }
          break;
        case FieldDescriptor::CPPTYPE_MESSAGE:
          ClearNegativeZeros(r->MutableRepeatedMessage(m, f, i));
          break;
        default:
          return;
      }
    }
    return;
  }
  switch (f->cpp_type()) {
    // An unset field reads as its default +0.0, so only a set -0.0 is
    // rewritten (presence is kept).
    case FieldDescriptor::CPPTYPE_DOUBLE:
      if (NegativeZero(r->GetDouble(*m, f))) r->SetDouble(m, f, 0.0);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      if (NegativeZero(r->GetFloat(*m, f))) r->SetFloat(m, f, 0.0f);
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (r->HasField(*m, f)) ClearNegativeZeros(r->MutableMessage(m, f));
      break;
    default:
      break;
  }
}

}  // namespace

void ClearNegativeZeros(Message* message) {
  const google::protobuf::Descriptor* d = message->GetDescriptor();
  const Reflection* r = message->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    ClearField(message, r, d->field(i));
  }
}

}  // namespace nnft::server
