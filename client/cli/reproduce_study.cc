// Study files (deploy/reproduce/*.json), the quantities read off a result
// and their comparison with the published values; see reproduce.h.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/cli/reproduce.h"
#include "client/cli/spec_file.h"
#include "google/protobuf/util/json_util.h"

namespace nnft::client::cli {
namespace {

namespace v1 = ::nnft::v1;
using google::protobuf::Struct;
using google::protobuf::Value;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The field `name` of `s` of kind `kind`, else InvalidArgument naming the
// file and the field.
absl::StatusOr<const Value*> Field(const Struct& s, const std::string& name,
                                   Value::KindCase kind,
                                   const std::string& where) {
  const auto it = s.fields().find(name);
  if (it == s.fields().end() || it->second.kind_case() != kind) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": field '", name, "' missing or of wrong type"));
  }
  return &it->second;
}

std::string StringOr(const Struct& s, const std::string& name) {
  const auto it = s.fields().find(name);
  return it != s.fields().end() && it->second.kind_case() == Value::kStringValue
             ? it->second.string_value()
             : "";
}

double NumberOr(const Struct& s, const std::string& name, double fallback) {
  const auto it = s.fields().find(name);
  return it != s.fields().end() && it->second.kind_case() == Value::kNumberValue
             ? it->second.number_value()
             : fallback;
}

absl::StatusOr<StudyRun> ParseRun(const Struct& run, const std::string& base,
                                  const std::string& where) {
  absl::StatusOr<const Value*> name =
      Field(run, "name", Value::kStringValue, where);
  if (!name.ok()) return name.status();
  StudyRun out{.name = (*name)->string_value()};
  const std::string source = absl::StrCat(where, ": run ", out.name);
  absl::StatusOr<v1::ExperimentSpec> spec;
  if (run.fields().contains("spec_file")) {
    spec = ReadSpecFile(
        (std::filesystem::path(base) / StringOr(run, "spec_file")).string());
  } else {
    absl::StatusOr<const Value*> inline_spec =
        Field(run, "spec", Value::kStructValue, source);
    if (!inline_spec.ok()) return inline_spec.status();
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(**inline_spec, &json)
             .ok()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": bad spec"));
    }
    spec = ParseSpecJson(json, source);
  }
  if (!spec.ok()) return spec.status();
  out.spec = *std::move(spec);
  if (run.fields().contains("label"))
    out.spec.set_label(StringOr(run, "label"));
  return out;
}

absl::StatusOr<StudyQuantity> ParseQuantity(const Struct& q,
                                            const std::string& where) {
  StudyQuantity out{.label = StringOr(q, "label"), .run = StringOr(q, "run")};
  const std::string at = absl::StrCat(where, ": quantity '", out.label, "'");
  absl::StatusOr<const Value*> extract =
      Field(q, "extract", Value::kStructValue, at);
  if (!extract.ok()) return extract.status();
  out.extract = (*extract)->struct_value();
  absl::StatusOr<const Value*> published =
      Field(q, "published", Value::kStructValue, at);
  if (!published.ok()) return published.status();
  const Struct& pub = (*published)->struct_value();
  out.source = StringOr(pub, "source");
  out.theory = StringOr(pub, "theory");
  out.verdict = StringOr(pub, "verdict");
  if (pub.fields().contains("value")) out.value = NumberOr(pub, "value", kNaN);
  if (!out.value.has_value() && out.theory.empty() && out.verdict.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ": published needs one of value, theory or verdict"));
  }
  const auto cmp = q.fields().find("compare");
  if (cmp != q.fields().end() && cmp->second.has_struct_value()) {
    out.max_abs_z = NumberOr(cmp->second.struct_value(), "max_abs_z", 3);
    out.tolerance = NumberOr(cmp->second.struct_value(), "tolerance", 0);
  }
  return out;
}

absl::StatusOr<Study> ParseStudy(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  Struct root;
  if (!google::protobuf::util::JsonStringToMessage(*text, &root).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": malformed JSON"));
  }
  Study study{.id = StringOr(root, "id"),
              .title = StringOr(root, "title"),
              .citation = StringOr(root, "citation"),
              .arxiv = StringOr(root, "arxiv"),
              .path = path};
  if (study.id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no 'id'"));
  }
  const std::string base = std::filesystem::path(path).parent_path().string();
  for (const char* list : {"runs", "quantities"}) {
    absl::StatusOr<const Value*> items =
        Field(root, list, Value::kListValue, path);
    if (!items.ok()) return items.status();
    for (const Value& item : (*items)->list_value().values()) {
      if (!item.has_struct_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": '", list, "' holds a non-object"));
      }
      if (std::string(list) == "runs") {
        absl::StatusOr<StudyRun> run =
            ParseRun(item.struct_value(), base, path);
        if (!run.ok()) return run.status();
        study.runs.push_back(*std::move(run));
      } else {
        absl::StatusOr<StudyQuantity> q =
            ParseQuantity(item.struct_value(), path);
        if (!q.ok()) return q.status();
        study.quantities.push_back(*std::move(q));
      }
    }
  }
  return study;
}

std::vector<int> SortedTuple(const Struct& extract) {
  std::vector<int> t;
  const auto it = extract.fields().find("tuple");
  if (it == extract.fields().end()) return t;
  for (const Value& v : it->second.list_value().values()) {
    t.push_back(static_cast<int>(v.number_value()));
  }
  std::sort(t.begin(), t.end());
  return t;
}

// Index of `tuple` among the estimate's (sorted) tuples, or -1.
int FindTuple(const v1::Estimate& est, const std::vector<int>& tuple) {
  for (int i = 0; i < est.tuples_size(); ++i) {
    std::vector<int> t(est.tuples(i).index().begin(),
                       est.tuples(i).index().end());
    std::sort(t.begin(), t.end());
    if (t == tuple) return i;
  }
  return -1;
}

double At(const google::protobuf::RepeatedField<double>& f, int i) {
  return i >= 0 && i < f.size() ? f.Get(i) : kNaN;
}

absl::Status NoTuple(const std::vector<int>& t) {
  return absl::NotFoundError(
      absl::StrCat("tuple (", absl::StrJoin(t, ","), ") not in the result"));
}

absl::StatusOr<Extracted> FromSweep(const std::string& kind,
                                    const Struct& extract,
                                    const JobResult& result) {
  const std::vector<int> tuple = SortedTuple(extract);
  if (kind == "sweep_fit") {
    for (const v1::PowerLawFit& f : result.sweep_fits) {
      std::vector<int> t(f.tuple().index().begin(), f.tuple().index().end());
      std::sort(t.begin(), t.end());
      if (t != tuple) continue;
      return Extracted{.value = f.exponent(),
                       .err = f.exponent_stderr(),
                       .theory = kNaN,
                       .note = absl::StrCat(
                           f.widths_used(), "/",
                           f.widths_used() + f.widths_dropped(), " widths")};
    }
    return NoTuple(tuple);
  }
  const int width = static_cast<int>(NumberOr(extract, "width", -1));
  for (const v1::SweepWidthBlock& b : result.sweep_widths) {
    if (b.width() != width) continue;
    const int i = FindTuple(b.entries().estimate(), tuple);
    if (i < 0) return NoTuple(tuple);
    const auto times = extract.fields().find("times_width");
    const double scale =
        times != extract.fields().end() && times->second.bool_value() ? width
                                                                      : 1.0;
    const double gp = At(b.entries().theory().gp(), i);
    const double exact = At(b.entries().theory().exact(), i);
    return Extracted{.value = scale * At(b.deviation(), i),
                     .err = scale * At(b.deviation_background(), i),
                     .theory = scale * std::abs(exact - gp) / std::abs(gp)};
  }
  return absl::NotFoundError(absl::StrCat("width ", width, " not swept"));
}

absl::StatusOr<Extracted> FromConformal(const Struct& extract,
                                        const JobResult& result) {
  if (!result.header.has_conformal()) {
    return absl::NotFoundError("no null-cone analysis in the result");
  }
  const v1::ConformalResult& c = result.header.conformal();
  const std::string field = StringOr(extract, "field");
  const v1::Measured* m = nullptr;
  if (field == "mu2") m = &c.mu2();
  if (field == "mu4") m = &c.mu4();
  std::vector<int> want;
  if (const auto it = extract.fields().find("index");
      it != extract.fields().end()) {
    for (const Value& v : it->second.list_value().values()) {
      want.push_back(static_cast<int>(v.number_value()));
    }
  }
  for (const v1::ConformalResult::FourPoint& q : c.four_point()) {
    if (m != nullptr) break;
    if (std::vector<int>(q.index().begin(), q.index().end()) != want) continue;
    if (field == "g") m = &q.g();
    if (field == "g4") m = &q.g4();
    if (field == "g4_connected") m = &q.g4_connected();
  }
  if (m == nullptr) {
    return absl::NotFoundError(absl::StrCat("conformal field '", field,
                                            "' at (", absl::StrJoin(want, ","),
                                            ") not in the result"));
  }
  return Extracted{
      .value = m->value(), .err = m->stderr(), .theory = m->exact()};
}

}  // namespace

absl::StatusOr<std::vector<Study>> ListStudies(const std::string& dir) {
  std::vector<Study> studies;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    absl::StatusOr<Study> study = ParseStudy(entry.path().string());
    if (!study.ok()) return study.status();
    studies.push_back(*std::move(study));
  }
  if (studies.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no studies (*.json) in '", dir,
        "': give --reproduce_dir or $NNFT_REPRODUCE_DIR (deploy/reproduce)"));
  }
  std::sort(studies.begin(), studies.end(),
            [](const Study& a, const Study& b) { return a.id < b.id; });
  return studies;
}

absl::StatusOr<Study> FindStudy(const std::string& dir, const std::string& id) {
  absl::StatusOr<std::vector<Study>> studies = ListStudies(dir);
  if (!studies.ok()) return studies.status();
  std::vector<std::string> ids;
  for (Study& s : *studies) {
    if (s.id == id) return std::move(s);
    ids.push_back(s.id);
  }
  return absl::NotFoundError(absl::StrCat(
      "unknown study '", id, "' (known: ", absl::StrJoin(ids, ", "), ")"));
}

absl::StatusOr<Extracted> Extract(const StudyQuantity& q,
                                  const JobResult& result) {
  const std::string kind = StringOr(q.extract, "kind");
  const v1::EntryBlock& e = result.entries;
  if (kind == "entry" || kind == "reweight_shift") {
    const std::vector<int> tuple = SortedTuple(q.extract);
    const int i = FindTuple(e.estimate(), tuple);
    if (i < 0) return NoTuple(tuple);
    if (kind == "entry") {
      return Extracted{.value = At(e.estimate().mean(), i),
                       .err = At(e.estimate().stderr(), i),
                       .theory = At(e.theory().exact(), i)};
    }
    return Extracted{.value = At(e.reweight().shift(), i),
                     .err = At(e.reweight().shift_stderr(), i),
                     .theory = At(e.reweight().first_order_shift(), i)};
  }
  if (kind == "sweep_fit" || kind == "deviation") {
    return FromSweep(kind, q.extract, result);
  }
  if (kind == "coupling_slope") {
    const v1::EffectiveCouplingResult& ec = result.header.effective_coupling();
    if (!result.header.has_effective_coupling() || !ec.error().empty()) {
      return absl::NotFoundError(
          absl::StrCat("no effective coupling in the result ", ec.error()));
    }
    return Extracted{
        .value = ec.slope(), .err = ec.slope_stderr(), .theory = kNaN};
  }
  if (kind == "conformal") return FromConformal(q.extract, result);
  if (kind == "symmetry") {
    const std::string label = StringOr(q.extract, "label");
    for (const v1::SymmetryResult& s : result.header.symmetry()) {
      if (s.label() != label) continue;
      return Extracted{
          .value = s.max_abs_z(),
          .err = kNaN,
          .theory = kNaN,
          .verdict = s.consistent() ? "invariant" : "broken",
          .note = absl::StrFormat(
              "max|z| %.3g vs threshold %.3g, chi2/dof %.3g (dof %d)",
              s.max_abs_z(), s.z_threshold(), s.chi2_per_dof(), s.dof())};
    }
    return absl::NotFoundError(
        absl::StrCat("no symmetry check '", label, "' in the result"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("extract kind '", kind,
                   "': must be entry, reweight_shift, sweep_fit, deviation, "
                   "coupling_slope, conformal or symmetry"));
}

ComparisonRow Compare(const StudyQuantity& q, const Extracted& got) {
  ComparisonRow row{.label = q.label, .got = got, .source = q.source};
  if (!q.verdict.empty()) {
    row.published = q.verdict;
    row.published_value = row.z = row.difference = kNaN;
    row.agrees = got.verdict == q.verdict;
    return row;
  }
  const double ref = q.value.has_value() ? *q.value : got.theory;
  row.published_value = ref;
  row.published = absl::StrFormat("%.6g", ref);
  row.difference = got.value - ref;
  row.z = got.err > 0 ? row.difference / got.err : kNaN;
  row.agrees = (std::isfinite(row.z) && std::abs(row.z) <= q.max_abs_z) ||
               (std::isfinite(row.difference) &&
                std::abs(row.difference) <= q.tolerance);
  return row;
}

std::string FormatComparison(const Study& study,
                             const std::vector<ComparisonRow>& rows) {
  std::vector<std::vector<std::string>> cells = {
      {"quantity", "published", "nnft +- err", "z or difference", "agrees"}};
  int agree = 0;
  for (const ComparisonRow& r : rows) {
    std::string got, zd;
    if (!r.got.verdict.empty()) {
      got = r.got.verdict;
      zd = absl::StrFormat("max|z| %.3g", r.got.value);
    } else {
      got = std::isfinite(r.got.err)
                ? absl::StrFormat("%.6g +- %.2g", r.got.value, r.got.err)
                : absl::StrFormat("%.6g", r.got.value);
      zd = std::isfinite(r.z) && std::abs(r.z) < 1e6
               ? absl::StrFormat("z = %+.2f", r.z)
               : absl::StrFormat("diff = %.3g", r.difference);
    }
    cells.push_back({r.label, r.published, got, zd, r.agrees ? "yes" : "NO"});
    agree += r.agrees ? 1 : 0;
  }
  std::vector<size_t> width(cells[0].size(), 0);
  for (const auto& row : cells) {
    for (size_t k = 0; k < row.size(); ++k) {
      width[k] = std::max(width[k], row[k].size());
    }
  }
  std::string out = absl::StrCat("# ", study.title, " (arXiv ", study.arxiv,
                                 ")\n# ", study.citation, "\n");
  for (const auto& row : cells) {
    std::string line;
    for (size_t k = 0; k < row.size(); ++k) {
      absl::StrAppend(&line, row[k], std::string(width[k] - row[k].size(), ' '),
                      k + 1 < row.size() ? "  " : "");
    }
    line.erase(line.find_last_not_of(' ') + 1);
    absl::StrAppend(&out, line, "\n");
  }
  absl::StrAppend(&out, "# sources:\n");
  for (const ComparisonRow& r : rows) {
    absl::StrAppend(
        &out, "#   ", r.label, ": ", r.source,
        r.got.note.empty() ? "" : absl::StrCat(" [", r.got.note, "]"), "\n");
  }
  absl::StrAppend(&out, "# ", agree, " of ", rows.size(),
                  " quantities agree with the published values\n");
  return out;
}

std::string ComparisonCsv(const std::vector<ComparisonRow>& rows) {
  auto quoted = [](const std::string& s) {
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  std::string out =
      "quantity,published,nnft,stderr,z,difference,agrees,source\n";
  for (const ComparisonRow& r : rows) {
    absl::StrAppend(&out, quoted(r.label), ",", quoted(r.published), ",",
                    absl::StrFormat("%.17g,%.17g,%.17g,%.17g", r.got.value,
                                    r.got.err, r.z, r.difference),
                    ",", r.agrees ? 1 : 0, ",", quoted(r.source), "\n");
  }
  return out;
}

}  // namespace nnft::client::cli
