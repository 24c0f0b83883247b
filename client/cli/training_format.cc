// Training flow tables for the CLI (training_format.h).
#include "client/cli/training_format.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace nnft::client::cli {
namespace {

std::string Num(double v, int digits = 5) {
  if (std::isnan(v)) return "nan";
  return absl::StrFormat("%.*g", digits, v);
}

std::string Pm(double v, double e) {
  return absl::StrCat(Num(v), " +- ", Num(e, 2));
}

double At(const google::protobuf::RepeatedField<double>& f, int i) {
  return i < f.size() ? f.Get(i) : std::nan("");
}

std::string Align(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (size_t c = 0; c < row.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      absl::StrAppend(&line, row[c]);
      if (c + 1 < row.size()) line.append(width[c] - row[c].size() + 2, ' ');
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

// "median [q05, q95]" of the loss from its histogram (loss_quantiles at
// 0.05, 0.25, 0.5, 0.75, 0.95), or "" without one.
std::string LossQuantiles(const v1::TrainingTime& r) {
  if (r.loss_quantiles_size() != 5) return "";
  return absl::StrCat(Num(r.loss_quantiles(2), 3), " [",
                      Num(r.loss_quantiles(0), 2), ", ",
                      Num(r.loss_quantiles(4), 2), "]");
}

}  // namespace

std::string TrainingFlowTable(
    const google::protobuf::RepeatedPtrField<v1::TrainingTime>& rows,
    int max_points) {
  if (rows.empty()) return "";
  const int n = std::min(max_points, rows.Get(0).num_points());
  std::vector<std::string> head = {"t", "loss +- err"};
  const bool quantiles = rows.Get(0).loss_quantiles_size() == 5;
  if (quantiles) head.push_back("loss median [5%, 95%]");
  for (int p = 0; p < n; ++p) {
    head.push_back(absl::StrCat("mu(x", p, ") +- err"));
    head.push_back("theory");
    head.push_back(absl::StrCat("Sigma(x", p, ",x", p, ") +- err"));
    head.push_back("theory");
  }
  std::vector<std::vector<std::string>> table = {head};
  for (const v1::TrainingTime& r : rows) {
    const int np = r.num_points();
    std::vector<std::string> row = {Num(r.t()),
                                    Pm(r.loss_mean(), r.loss_stderr())};
    if (quantiles) row.push_back(LossQuantiles(r));
    for (int p = 0; p < n; ++p) {
      row.push_back(Pm(At(r.mu(), p), At(r.mu_stderr(), p)));
      row.push_back(Num(At(r.mu_theory(), p)));
      row.push_back(
          Pm(At(r.sigma(), p * np + p), At(r.sigma_stderr(), p * np + p)));
      row.push_back(Num(At(r.sigma_theory(), p * np + p)));
    }
    table.push_back(std::move(row));
  }
  return Align(table);
}

std::string TrainingResultTable(const JobResult& result) {
  const v1::ResultHeader& h = result.header;
  google::protobuf::RepeatedPtrField<v1::TrainingTime> rows(
      result.training.begin(), result.training.end());
  std::string out = absl::StrFormat(
      "# %s  training flow: networks=%d chunks=%d bins=%d seed=%d\n"
      "# theory: %s\n",
      h.job().name(), h.networks(), h.chunks(), h.bins(), h.seed(),
      h.training_theory_method());
  absl::StrAppend(&out, TrainingFlowTable(rows, 4));
  if (result.empirical_ntk.has_value()) {
    const v1::EmpiricalNtk& k = *result.empirical_ntk;
    const int n = k.num_points();
    absl::StrAppend(&out, "# empirical NTK at initialisation\n");
    std::vector<std::vector<std::string>> table = {
        {"p", "q", "mean +- err", "spread", "theory", "z"}};
    for (int p = 0; p < n; ++p) {
      for (int q = p; q < n; ++q) {
        const int i = p * n + q;
        table.push_back(
            {absl::StrCat(p), absl::StrCat(q),
             Pm(At(k.mean(), i), At(k.stderr(), i)), Num(At(k.std(), i)),
             Num(At(k.theory(), i)),
             Num((At(k.mean(), i) - At(k.theory(), i)) / At(k.stderr(), i),
                 3)});
      }
    }
    absl::StrAppend(&out, Align(table));
  }
  return out;
}

std::string TrainingResultCsv(const JobResult& result) {
  std::string out =
      "t,p,q,mu,mu_stderr,mu_theory,sigma,sigma_stderr,sigma_theory,"
      "loss_mean,loss_stderr,loss_std\n";
  const auto g = [](double v) { return absl::StrFormat("%.17g", v); };
  for (const v1::TrainingTime& r : result.training) {
    const int n = r.num_points();
    for (int p = 0; p < n; ++p) {
      for (int q = 0; q < n; ++q) {
        const int i = p * n + q;
        absl::StrAppend(
            &out, g(r.t()), ",", p, ",", q, ",",
            p == q
                ? absl::StrCat(g(At(r.mu(), p)), ",", g(At(r.mu_stderr(), p)),
                               ",", g(At(r.mu_theory(), p)))
                : std::string(",,"),
            ",", g(At(r.sigma(), i)), ",", g(At(r.sigma_stderr(), i)), ",",
            g(At(r.sigma_theory(), i)), ",", g(r.loss_mean()), ",",
            g(r.loss_stderr()), ",", g(r.loss_std()), "\n");
      }
    }
  }
  return out;
}

void TrainingLivePrinter::Update(const v1::JobUpdate& update) {
  if (update.training().empty()) return;
  const v1::Progress& pr = update.job().progress();
  last_table_ = absl::StrCat("# ", update.job().name(), " ", pr.networks_done(),
                             "/", pr.networks_total(), " networks\n",
                             TrainingFlowTable(update.training(), 3));
  last_printed_ = false;
  const absl::Time now = absl::Now();
  if (!terminal_ && now - last_print_ < interval_) return;
  last_print_ = now;
  if (terminal_ && lines_drawn_ > 0) {
    std::fprintf(out_, "\x1b[%dA\x1b[J", lines_drawn_);  // up, clear below
  }
  std::fputs(last_table_.c_str(), out_);
  std::fflush(out_);
  lines_drawn_ = static_cast<int>(
      std::count(last_table_.begin(), last_table_.end(), '\n'));
  last_printed_ = true;
}

void TrainingLivePrinter::Finish() {
  if (!last_printed_ && !last_table_.empty()) {
    if (terminal_ && lines_drawn_ > 0) {
      std::fprintf(out_, "\x1b[%dA\x1b[J", lines_drawn_);
    }
    std::fputs(last_table_.c_str(), out_);
    std::fflush(out_);
  }
}

}  // namespace nnft::client::cli
