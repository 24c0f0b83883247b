// The job dashboard's routes and its HTTP server. See dashboard.h.
#include "server/ops/dashboard.h"

#include <civetweb.h>

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "core/sampling/engine.h"
#include "core/status_macros.h"
#include "server/ops/dashboard_page.h"
#include "server/ops/log.h"
#include "server/store/store.h"

namespace nnft::server {
namespace {

constexpr int kDefaultListLimit = 100, kMaxListLimit = 1000;
constexpr int kDefaultEntries = 500, kMaxEntries = 5000;
constexpr int kMaxFits = 16;
// Entries kept in each cache before it is cleared.
constexpr size_t kMaxMetas = 4096, kMaxTheories = 64, kMaxResults = 8;

constexpr char kJson[] = "application/json; charset=utf-8";

DashboardResponse Json(int status, std::string body) {
  DashboardResponse r;
  r.status = status;
  r.content_type = kJson;
  r.body = std::move(body);
  return r;
}

DashboardResponse JsonError(int status, absl::string_view message) {
  return Json(status, absl::StrCat("{\"error\":", JsonQuote(message), "}"));
}

// 400 for ".", ".." and empty segments, backslashes and control characters.
bool IsCleanPath(absl::string_view path) {
  if (!absl::StartsWith(path, "/")) return false;
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || c == '\\') return false;
  }
  const std::vector<absl::string_view> segments =
      absl::StrSplit(path.substr(1), '/');
  for (size_t i = 0; i < segments.size(); ++i) {
    if (segments[i] == "." || segments[i] == "..") return false;
    if (segments[i].empty() && i + 1 < segments.size()) return false;
  }
  return true;
}

// 16 lower-case hex digits: the id part of a job name.
bool IsJobId(absl::string_view id) {
  return id.size() == 16 && std::all_of(id.begin(), id.end(), [](char c) {
           return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

// The integer query parameter `key` in [lo, hi] (`fallback` when absent).
// Any other parameter, or a value that is not such an integer, is an error
// naming it.
absl::StatusOr<int> QueryInt(absl::string_view query, absl::string_view key,
                             int lo, int hi, int fallback) {
  int value = fallback;
  if (query.empty()) return value;
  for (absl::string_view pair : absl::StrSplit(query, '&')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    if (kv.first != key) {
      return absl::InvalidArgumentError(absl::StrCat(
          "query parameter '", kv.first, "': unknown (allowed: ", key, ")"));
    }
    int64_t v = 0;
    const bool digits =
        !kv.second.empty() && kv.second.size() <= 9 &&
        std::all_of(kv.second.begin(), kv.second.end(), absl::ascii_isdigit);
    if (!digits || !absl::SimpleAtoi(kv.second, &v) || v < lo || v > hi) {
      return absl::InvalidArgumentError(
          absl::StrCat(key, " = '", kv.second, "': must be an integer in [", lo,
                       ", ", hi, "]"));
    }
    value = static_cast<int>(v);
  }
  return value;
}

DashboardResponse Static(absl::string_view content_type,
                         absl::string_view body) {
  DashboardResponse r;
  r.content_type = std::string(content_type);
  r.body = std::string(body);
  // The page runs only its own script and talks only to this server.
  r.headers = {{"Content-Security-Policy",
                "default-src 'none'; script-src 'self'; connect-src 'self'; "
                "style-src 'unsafe-inline'; img-src 'self' data:; "
                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
               {"X-Frame-Options", "DENY"},
               {"Referrer-Policy", "no-referrer"}};
  return r;
}

}  // namespace

absl::Status DashboardOptions::Validate() const {
  const size_t colon = listen.rfind(':');
  const absl::string_view port =
      colon == std::string::npos ? ""
                                 : absl::string_view(listen).substr(colon + 1);
  int port_number = 0;
  if (colon == std::string::npos || colon == 0 || port.empty() ||
      !std::all_of(port.begin(), port.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port, &port_number) || port_number > 65535 ||
      absl::StrContains(listen, ",") || absl::StrContains(listen, " ")) {
    return absl::InvalidArgumentError(
        absl::StrCat("dashboard_listen = '", listen,
                     "': must be host:port, port in [0, 65535] (0: any free "
                     "port)"));
  }
  if (threads < 1 || threads > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("dashboard threads = ", threads, ": must be in [1, 64]"));
  }
  return absl::OkStatus();
}

DashboardHandler::DashboardHandler(JobManager* jobs, DashboardOptions options)
    : jobs_(jobs), options_(std::move(options)) {}

DashboardResponse DashboardHandler::Handle(
    const DashboardRequest& request) const {
  DashboardResponse response = Route(request);
  response.headers.push_back({"Cache-Control", "no-store"});
  response.headers.push_back({"X-Content-Type-Options", "nosniff"});
  return response;
}

DashboardResponse DashboardHandler::Route(
    const DashboardRequest& request) const {
  if (static_cast<int64_t>(request.path.size()) > kMaxPathBytes ||
      static_cast<int64_t>(request.query.size()) > kMaxQueryBytes) {
    return JsonError(
        414, absl::StrCat("path or query too long: at most ", kMaxPathBytes,
                          " and ", kMaxQueryBytes, " bytes"));
  }
  if (request.method != "GET" && request.method != "HEAD") {
    DashboardResponse r =
        JsonError(405, "method: only GET and HEAD are served");
    r.headers.push_back({"Allow", "GET, HEAD"});
    return r;
  }
  if (!IsCleanPath(request.path)) {
    return JsonError(400,
                     "path: must not contain '.', '..' or empty segments, "
                     "backslashes or control characters");
  }
  if (request.path == "/") {
    return Static("text/html; charset=utf-8", kDashboardHtml);
  }
  if (request.path == "/dashboard.js") {
    return Static("text/javascript; charset=utf-8", kDashboardScript);
  }
  absl::string_view id = request.path;
  const bool list = request.path == "/api/jobs";
  if (!list && !absl::ConsumePrefix(&id, "/api/jobs/")) {
    return JsonError(404, "no such page");
  }
  if (!list && !IsJobId(id)) {
    return JsonError(404, "job id: must be the 16 hex digits of a job");
  }
  std::string owner;
  if (options_.auth != nullptr) {
    absl::StatusOr<std::string> principal =
        options_.auth->Authenticate(request.authorization);
    if (!principal.ok()) {
      DashboardResponse r = JsonError(401, principal.status().message());
      r.headers.push_back({"WWW-Authenticate", "Bearer realm=\"nnft\""});
      return r;
    }
    owner = *std::move(principal);
  }
  return list ? ListJobs(request, owner)
              : GetJob(request, absl::StrCat("jobs/", id), owner);
}

DashboardResponse DashboardHandler::ListJobs(const DashboardRequest& request,
                                             const std::string& owner) const {
  absl::StatusOr<int> limit =
      QueryInt(request.query, "limit", 1, kMaxListLimit, kDefaultListLimit);
  if (!limit.ok()) return JsonError(400, limit.status().message());
  // Pages are oldest first: keep the newest `limit`.
  std::deque<JobSnapshot> newest;
  int64_t total = 0;
  std::string token;
  do {
    absl::StatusOr<ListPage> page = jobs_->List(kMaxListLimit, token, owner);
    if (!page.ok()) return JsonError(500, page.status().ToString());
    for (JobSnapshot& job : page->jobs) {
      ++total;
      newest.push_back(std::move(job));
      if (static_cast<int>(newest.size()) > *limit) newest.pop_front();
    }
    token = std::move(page->next_page_token);
  } while (!token.empty());
  const absl::Time now = absl::Now();
  JsonWriter w;
  w.BeginObject();
  w.Key("total");
  w.Int(total);
  w.Key("now");
  w.Time(now);
  w.Key("jobs");
  w.BeginArray();
  for (auto it = newest.rbegin(); it != newest.rend(); ++it) {
    WriteJobRow(*it, *Meta(*it), now, w);
  }
  w.EndArray();
  w.EndObject();
  return Json(200, w.Take());
}

DashboardResponse DashboardHandler::GetJob(const DashboardRequest& request,
                                           const std::string& name,
                                           const std::string& owner) const {
  absl::StatusOr<int> max_entries =
      QueryInt(request.query, "entries", 1, kMaxEntries, kDefaultEntries);
  if (!max_entries.ok()) return JsonError(400, max_entries.status().message());
  absl::StatusOr<JobSnapshot> job = jobs_->Get(name, owner);
  if (absl::IsNotFound(job.status())) return JsonError(404, "no such job");
  if (!job.ok()) return JsonError(500, job.status().ToString());
  const std::shared_ptr<const JobMeta> meta = Meta(*job);
  JobDetailView view;
  view.job = &*job;
  view.meta = meta.get();
  // Jobs finished before this process started have no estimate in memory:
  // their result is folded from the store once.
  std::shared_ptr<const JobResult> result;
  const bool no_estimate =
      !job->estimate.has_value() &&
      std::none_of(job->sweep.begin(), job->sweep.end(),
                   [](const SweepWidthSnapshot& w) { return w.estimate; });
  if (no_estimate && job->state == JobState::kSucceeded) {
    absl::StatusOr<std::shared_ptr<const JobResult>> r = Result(*job, owner);
    if (r.ok()) result = *std::move(r);
  }
  std::shared_ptr<const TheoryValues> theory;
  if (result != nullptr && result->sweep.has_value()) {
    for (const SweepWidthResult& w : result->sweep->widths) {
      view.sweep.push_back(
          {.width = w.width, .estimate = &w.estimate, .theory = &w.theory});
    }
  } else if (result != nullptr) {
    view.estimate = &result->estimate;
    if (!result->training) view.theory = &result->theory;
  } else if (!job->sweep.empty()) {
    for (const SweepWidthSnapshot& w : job->sweep) {
      view.sweep.push_back({.width = w.width,
                            .chunks_done = w.chunks_done,
                            .chunks_total = w.chunks_total,
                            .estimate = w.estimate ? &*w.estimate : nullptr,
                            .theory = w.theory.get()});
    }
  } else if (job->estimate.has_value()) {
    view.estimate = &*job->estimate;
    theory = Theory(*job, *meta);
    view.theory = theory.get();
  }
  // A sweep's entries: its widest width with an estimate.
  for (const SweepWidthView& w : view.sweep) {
    if (w.estimate == nullptr) continue;
    view.estimate = w.estimate;
    view.theory = w.theory;
    view.estimate_width = w.width;
  }
  return Json(200, JobDetailJson(view, absl::Now(), *max_entries, kMaxFits));
}

std::shared_ptr<const JobMeta> DashboardHandler::Meta(
    const JobSnapshot& job) const {
  {
    absl::MutexLock lock(&mu_);
    auto it = meta_.find(job.name);
    if (it != meta_.end()) return it->second;
  }
  auto meta =
      std::make_shared<const JobMeta>(ReadJobMeta(job, options_.limits));
  absl::MutexLock lock(&mu_);
  if (meta_.size() >= kMaxMetas) meta_.clear();
  meta_[job.name] = meta;
  return meta;
}

std::shared_ptr<const TheoryValues> DashboardHandler::Theory(
    const JobSnapshot& job, const JobMeta& meta) const {
  if (!meta.spec.has_value() || meta.kind != "correlators") return nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto it = theory_.find(job.digest);
    if (it != theory_.end()) return it->second;
  }
  // The engine form of the spec and its tuples, as the job folds them.
  std::shared_ptr<const TheoryValues> theory;
  absl::StatusOr<ExperimentSpec> spec = EngineSpec(*meta.spec, options_.limits);
  if (spec.ok()) {
    absl::StatusOr<TupleSet> tuples =
        BuildTupleSet(*spec, options_.limits.max_tuples);
    if (tuples.ok()) {
      absl::StatusOr<TheoryValues> values = ComputeTheory(*spec, *tuples);
      if (values.ok()) {
        theory = std::make_shared<const TheoryValues>(*std::move(values));
      }
    }
  }
  absl::MutexLock lock(&mu_);
  if (theory_.size() >= kMaxTheories) theory_.clear();
  theory_[job.digest] = theory;
  return theory;
}

absl::StatusOr<std::shared_ptr<const JobResult>> DashboardHandler::Result(
    const JobSnapshot& job, const std::string& owner) const {
  {
    absl::MutexLock lock(&mu_);
    auto it = results_.find(job.name);
    if (it != results_.end()) return it->second;
  }
  NNFT_ASSIGN_OR_RETURN(JobResult result, jobs_->Result(job.name, owner));
  auto shared = std::make_shared<const JobResult>(std::move(result));
  absl::MutexLock lock(&mu_);
  if (results_.size() >= kMaxResults) results_.clear();
  results_[job.name] = shared;
  return shared;
}

// --- HTTP server ---

namespace {

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 414:
      return "URI Too Long";
    default:
      return "Internal Server Error";
  }
}

int LogMessage(const mg_connection*, const char* message) {
  LogEvent("dashboard_http_error", {{"message", message}});
  return 1;
}

}  // namespace

DashboardServer::DashboardServer(JobManager* jobs, DashboardOptions options)
    : handler_(jobs, std::move(options)) {}

absl::StatusOr<std::unique_ptr<DashboardServer>> DashboardServer::Start(
    JobManager* jobs, DashboardOptions options) {
  NNFT_RETURN_IF_ERROR(options.Validate());
  const std::string listen = options.listen;
  const std::string threads = absl::StrCat(options.threads);
  std::unique_ptr<DashboardServer> server(
      new DashboardServer(jobs, std::move(options)));
  mg_callbacks callbacks{};
  callbacks.begin_request = &DashboardServer::BeginRequest;
  callbacks.log_message = &LogMessage;
  // No document_root: nothing is served from the file system.
  const char* config[] = {"listening_ports",
                          listen.c_str(),
                          "num_threads",
                          threads.c_str(),
                          "request_timeout_ms",
                          "10000",
                          "enable_keep_alive",
                          "no",
                          "max_request_size",
                          "16384",
                          nullptr};
  mg_init_data init{.callbacks = &callbacks,
                    .user_data = server.get(),
                    .configuration_options = config};
  char text[256] = {0};
  unsigned code = 0;
  mg_error_data error{
      .code = &code, .text = text, .text_buffer_size = sizeof(text)};
  server->context_ = mg_start2(&init, &error);
  mg_server_port ports[1];
  if (server->context_ == nullptr ||
      mg_get_server_ports(server->context_, 1, ports) < 1) {
    return absl::UnavailableError(absl::StrCat(
        "dashboard_listen = '", listen, "': could not listen there: ", text));
  }
  server->address_ =
      absl::StrCat(listen.substr(0, listen.rfind(':')), ":", ports[0].port);
  return server;
}

DashboardServer::~DashboardServer() {
  if (context_ != nullptr) mg_stop(context_);
}

int DashboardServer::BeginRequest(mg_connection* connection) {
  const mg_request_info* info = mg_get_request_info(connection);
  auto* self = static_cast<DashboardServer*>(info->user_data);
  const char* authorization = mg_get_header(connection, "Authorization");
  // local_uri_raw is the URL-decoded path (null for a request addressed to
  // another host), before civetweb's own clean-up of "..".
  DashboardResponse response;
  if (info->local_uri_raw == nullptr) {
    response = JsonError(400, "path: must be a path on this server");
  } else {
    response = self->handler_.Handle(
        {.method = info->request_method,
         .path = info->local_uri_raw,
         .query = info->query_string ? info->query_string : "",
         .authorization = authorization ? authorization : ""});
  }
  std::string head =
      absl::StrCat("HTTP/1.1 ", response.status, " ", Reason(response.status),
                   "\r\nContent-Type: ", response.content_type,
                   "\r\nContent-Length: ", response.body.size(),
                   "\r\nConnection: close\r\n");
  for (const auto& [key, value] : response.headers) {
    absl::StrAppend(&head, key, ": ", value, "\r\n");
  }
  head.append("\r\n");
  mg_write(connection, head.data(), head.size());
  if (absl::string_view(info->request_method) != "HEAD") {
    mg_write(connection, response.body.data(), response.body.size());
  }
  return response.status;
}

}  // namespace nnft::server
