// Proto <-> core for the interaction fields of a spec: Mlp.deformation,
// CosNet.box_side, ExperimentSpec.insertion and .effective_coupling. Ranges
// are checked by core Validate (spec_interactions.cc).
#include <variant>

#include "server/spec/spec_proto.h"

namespace nnft::server {

void InteractionsFromProto(const v1::ExperimentSpec& proto,
                           ExperimentSpec& spec) {
  const v1::Architecture& a = proto.architecture();
  if (auto* mlp = std::get_if<MlpSpec>(&spec.architecture);
      mlp != nullptr && a.has_mlp() && a.mlp().has_deformation()) {
    const v1::Deformation& d = a.mlp().deformation();
    mlp->deformation = Deformation{.s = d.s(), .lambda = d.lambda()};
    if (d.has_layer()) mlp->deformation->layer = d.layer();
  }
  if (auto* cos = std::get_if<CosNetSpec>(&spec.architecture);
      cos != nullptr && a.has_cos_net()) {
    cos->box_side = a.cos_net().box_side();
  }
  if (proto.has_insertion()) {
    const v1::Insertion& in = proto.insertion();
    spec.insertion = Insertion{.lambda = in.lambda()};
    if (in.has_ess_warning_fraction()) {
      spec.insertion->ess_warning_fraction = in.ess_warning_fraction();
    }
  }
  if (proto.has_effective_coupling()) {
    const v1::EffectiveCoupling& ec = proto.effective_coupling();
    spec.effective_coupling = EffectiveCouplingSpec{
        .cutoffs = {ec.cutoffs().begin(), ec.cutoffs().end()},
        .amputated_vertex = ec.amputated_vertex()};
  }
}

void InteractionsToProto(const ExperimentSpec& spec,
                         v1::ExperimentSpec* proto) {
  v1::Architecture* a = proto->mutable_architecture();
  if (const auto* mlp = std::get_if<MlpSpec>(&spec.architecture);
      mlp != nullptr && mlp->deformation.has_value()) {
    v1::Deformation* d = a->mutable_mlp()->mutable_deformation();
    d->set_s(mlp->deformation->s);
    d->set_lambda(mlp->deformation->lambda);
    d->set_layer(mlp->deformation->layer);
  }
  if (const auto* cos = std::get_if<CosNetSpec>(&spec.architecture);
      cos != nullptr && cos->box_side != 0) {
    a->mutable_cos_net()->set_box_side(cos->box_side);
  }
  if (spec.insertion.has_value()) {
    v1::Insertion* in = proto->mutable_insertion();
    in->set_lambda(spec.insertion->lambda);
    in->set_ess_warning_fraction(spec.insertion->ess_warning_fraction);
  }
  if (spec.effective_coupling.has_value()) {
    v1::EffectiveCoupling* ec = proto->mutable_effective_coupling();
    ec->mutable_cutoffs()->Add(spec.effective_coupling->cutoffs.begin(),
                               spec.effective_coupling->cutoffs.end());
    ec->set_amputated_vertex(spec.effective_coupling->amputated_vertex);
  }
}

}  // namespace nnft::server
