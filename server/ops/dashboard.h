// The job dashboard: a small read-only web page on its own HTTP port
// (--dashboard_listen) listing jobs with state, progress, rate and ETA, and for
// one job its estimates against theory, as plots that sharpen while it runs.
// The page (server/ops/dashboard_page.h) is plain HTML, CSS and a script
// drawing SVG, all embedded in the binary: nothing is fetched from elsewhere.
//
// Routes (GET or HEAD; other methods answer 405):
//   /                  the page (no job data in it)
//   /dashboard.js      its script
//   /api/jobs          JSON: the newest jobs visible to the caller, newest
//                      first; ?limit=N, N in [1, 1000], default 100
//   /api/jobs/<id>     JSON: one job (id: the 16 hex digits of "jobs/<id>")
//                      with its current estimate against theory and, for a
//                      width sweep, the per-width fits; ?entries=N, N in
//                      [1, 5000], default 500
// Documents: server/ops/dashboard_json.h.
//
// Tokens: with a TokenAuthenticator, /api/* answers 401 unless the request
// carries `Authorization: Bearer <token>` of a known token, and a principal
// sees only its own jobs (others' answer 404, as unknown ones do), exactly as
// the gRPC API. The page and script carry no data and are served to anyone;
// the page keeps a token typed into it in the browser's sessionStorage and
// sends it with every fetch().
//
// Bad input is answered before any job is looked up: a path or query over
// kMaxPathBytes / kMaxQueryBytes answers 414; a path with "..", "." or empty
// segments or a backslash (after URL decoding, so %2e%2e counts) 400; an
// unknown route or a malformed job id 404; an unknown query parameter or a
// value out of range 400 naming it and the range. Requests over 16 KiB are
// refused by the HTTP server itself (400).
//
// Thread safety: Handle may be called concurrently.
#ifndef NNFT_SERVER_OPS_DASHBOARD_H_
#define NNFT_SERVER_OPS_DASHBOARD_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "core/spec/spec.h"
#include "core/theory/theory.h"
#include "server/api/auth.h"
#include "server/jobs/job_manager.h"
#include "server/ops/dashboard_json.h"

struct mg_context;  // civetweb
struct mg_connection;

namespace nnft::server {

inline constexpr int64_t kMaxPathBytes = 512;
inline constexpr int64_t kMaxQueryBytes = 512;

// One HTTP request as the handler sees it.
struct DashboardRequest {
  std::string method;         // "GET", "HEAD", ...
  std::string path;           // URL-decoded path, without the query
  std::string query;          // the raw query string, without '?'
  std::string authorization;  // the Authorization header; "" when absent
};

struct DashboardResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  // Extra headers (besides Content-Type and Content-Length).
  std::vector<std::pair<std::string, std::string>> headers;
};

struct DashboardOptions {
  // host:port of the HTTP server (host an IP address; port 0 picks a free
  // port). Required by DashboardServer::Start.
  std::string listen{};
  // HTTP worker threads; in [1, 64].
  int threads = 4;
  // Limits the server validates specs against (used to read jobs' specs).
  Limits limits{};
  // Null: no tokens, every job is shown.
  const TokenAuthenticator* auth = nullptr;

  absl::Status Validate() const;
};

// Routes and answers requests (no sockets: the unit tests call it directly).
class DashboardHandler {
 public:
  // `jobs` (and options.auth) must outlive the handler.
  DashboardHandler(JobManager* jobs, DashboardOptions options);

  DashboardResponse Handle(const DashboardRequest& request) const;

 private:
  DashboardResponse Route(const DashboardRequest& request) const;
  DashboardResponse ListJobs(const DashboardRequest& request,
                             const std::string& owner) const;
  DashboardResponse GetJob(const DashboardRequest& request,
                           const std::string& name,
                           const std::string& owner) const;
  std::shared_ptr<const JobMeta> Meta(const JobSnapshot& job) const;
  std::shared_ptr<const TheoryValues> Theory(const JobSnapshot& job,
                                             const JobMeta& meta) const;
  absl::StatusOr<std::shared_ptr<const JobResult>> Result(
      const JobSnapshot& job, const std::string& owner) const;

  JobManager* jobs_;
  DashboardOptions options_;
  // Caches, each cleared when full: a job's spec never changes, theory is a
  // function of the digest, and a finished job's result never changes.
  mutable absl::Mutex mu_;
  mutable std::map<std::string, std::shared_ptr<const JobMeta>> meta_
      ABSL_GUARDED_BY(mu_);
  mutable std::map<std::string, std::shared_ptr<const TheoryValues>> theory_
      ABSL_GUARDED_BY(mu_);
  mutable std::map<std::string, std::shared_ptr<const JobResult>> results_
      ABSL_GUARDED_BY(mu_);
};

// The handler behind an HTTP server (civetweb).
class DashboardServer {
 public:
  // Validates the options and starts listening. InvalidArgument for bad
  // options, Unavailable when it cannot listen there.
  static absl::StatusOr<std::unique_ptr<DashboardServer>> Start(
      JobManager* jobs, DashboardOptions options);

  DashboardServer(const DashboardServer&) = delete;
  DashboardServer& operator=(const DashboardServer&) = delete;
  // Stops listening and waits for the requests in flight.
  ~DashboardServer();

  // "host:port" actually bound.
  const std::string& address() const { return address_; }

 private:
  DashboardServer(JobManager* jobs, DashboardOptions options);
  static int BeginRequest(mg_connection* connection);

  DashboardHandler handler_;
  mg_context* context_ = nullptr;
  std::string address_;
};

}  // namespace nnft::server

#endif  // NNFT_SERVER_OPS_DASHBOARD_H_
