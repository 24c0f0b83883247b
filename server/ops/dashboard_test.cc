// The job dashboard: JSON escaping, routing and bad input (answered without
// touching the job manager), the documents' shape against the job manager's
// own snapshots and exact theory, the token rules, and the HTTP server on a
// real port.
#include "server/ops/dashboard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/estimate/compare.h"
#include "core/sampling/engine.h"
#include "core/theory/theory.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "server/api/auth.h"
#include "server/jobs/job_test_util.h"
#include "server/spec/spec_proto.h"

namespace nnft::server {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using testing_util::OpenManager;
using testing_util::Options;
using testing_util::TempDir;
using testing_util::TinySpec;
using testing_util::WaitDone;

constexpr char kAliceToken[] = "alice-token-0123456789";
constexpr char kBobToken[] = "bob-token-0123456789ab";

// The document parsed (a parse failure is a test failure and gives {}).
Struct Parse(const std::string& json) {
  Struct out;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &out);
  EXPECT_TRUE(status.ok()) << status << "\n" << json;
  return out;
}

const Value& Field(const Struct& s, const std::string& key) {
  static const Value kMissing;
  auto it = s.fields().find(key);
  EXPECT_NE(it, s.fields().end()) << "no field " << key;
  return it == s.fields().end() ? kMissing : it->second;
}

DashboardRequest Get(std::string path, std::string query = "",
                     std::string authorization = "") {
  return {.method = "GET",
          .path = std::move(path),
          .query = std::move(query),
          .authorization = std::move(authorization)};
}

// Submits `spec` with its JSON form (carrying `label`) as a client would.
JobSnapshot Submit(JobManager& m, const ExperimentSpec& spec,
                   const std::string& label, const std::string& owner = "") {
  v1::ExperimentSpec proto = SpecToProto(spec);
  proto.set_label(label);
  absl::StatusOr<JobSnapshot> job = m.Submit(
      {.spec = spec, .spec_json = SpecProtoToJson(proto), .owner = owner});
  EXPECT_TRUE(job.ok()) << job.status();
  return job.ok() ? *job : JobSnapshot{};
}

std::string IdOf(const JobSnapshot& job) { return job.name.substr(5); }

TEST(DashboardJsonTest, EscapesTextForJsonInsideHtml) {
  const std::string hostile =
      "\"</script><img src=x onerror=alert(1)>&\\\n\x01 \xE2\x80\xA8 é";
  const std::string quoted = JsonQuote(hostile);
  for (char c : {'<', '>', '&', '\n', '\x01'}) {
    EXPECT_EQ(quoted.find(c), std::string::npos) << quoted;
  }
  EXPECT_NE(quoted.find("\\u2028"), std::string::npos) << quoted;
  // It reads back as the same text.
  const Struct s = Parse(absl::StrCat("{\"label\":", quoted, "}"));
  EXPECT_EQ(Field(s, "label").string_value(), hostile);
}

TEST(DashboardJsonTest, InvalidUtf8BecomesReplacementCharacters) {
  // A lone continuation byte, an overlong '/', a surrogate, a cut sequence.
  const std::string quoted = JsonQuote("a\x80z\xC0\xAFz\xED\xA0\x80z\xE2\x82");
  EXPECT_EQ(quoted,
            "\"a\\ufffdz\\ufffd\\ufffdz\\ufffd\\ufffd\\ufffdz"
            "\\ufffd\\ufffd\"");
  Parse(absl::StrCat("{\"x\":", quoted, "}"));
}

TEST(DashboardJsonTest, NonFiniteNumbersAreNullAndNestingIsValid) {
  JsonWriter w;
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.Number(1.5);
  w.Number(std::numeric_limits<double>::quiet_NaN());
  w.Number(std::numeric_limits<double>::infinity());
  w.BeginObject();
  w.EndObject();
  w.EndArray();
  w.Key("t");
  w.Time(absl::InfinitePast());
  w.Key("n");
  w.Int(-3);
  w.EndObject();
  EXPECT_EQ(w.Take(), "{\"a\":[1.5,null,null,{}],\"t\":null,\"n\":-3}");
}

TEST(DashboardJsonTest, RateCountsComputedChunksAndEtaTheRest) {
  const absl::Time now = absl::FromUnixSeconds(1000);
  JobSnapshot job;
  job.state = JobState::kRunning;
  job.start_time = now - absl::Seconds(10);
  job.chunks_total = 10;
  job.chunks_done = 6;
  job.chunks_from_store = 2;  // 4 chunks of 100 computed in 10 s
  JobPace pace = PaceOf(job, 100, now);
  EXPECT_DOUBLE_EQ(pace.rate, 40.0);
  EXPECT_DOUBLE_EQ(pace.eta_s, 10.0);  // 4 chunks of 100 left at 40/s

  job.state = JobState::kQueued;
  pace = PaceOf(job, 100, now);
  EXPECT_TRUE(std::isnan(pace.rate));
  EXPECT_TRUE(std::isnan(pace.eta_s));

  job.state = JobState::kSucceeded;
  job.chunks_done = 10;
  job.end_time = now - absl::Seconds(2);  // 8 chunks in 8 s
  pace = PaceOf(job, 100, now);
  EXPECT_DOUBLE_EQ(pace.rate, 100.0);
  EXPECT_EQ(pace.eta_s, 0.0);

  job.state = JobState::kCancelled;  // stopped: nothing left to wait for
  pace = PaceOf(job, 100, now);
  EXPECT_DOUBLE_EQ(pace.rate, 100.0);
  EXPECT_TRUE(std::isnan(pace.eta_s));
}

// Bad input is answered by the router alone: the handler has no job manager,
// so any lookup would crash the test.
TEST(DashboardHandlerTest, BadInputIsAnsweredBeforeAnyLookup) {
  const DashboardHandler handler(nullptr, {});
  const auto status = [&](DashboardRequest r) {
    return handler.Handle(r).status;
  };
  EXPECT_EQ(status(Get("/api/jobs/../jobs")), 400);
  EXPECT_EQ(status(Get("/api/jobs/0123456789abcdef/..")), 400);
  EXPECT_EQ(status(Get("/../etc/passwd")), 400);
  EXPECT_EQ(status(Get("/api//jobs")), 400);
  EXPECT_EQ(status(Get("/./dashboard.js")), 400);
  EXPECT_EQ(status(Get("/api\\jobs")), 400);
  EXPECT_EQ(status(Get(std::string("/api/jobs/\x01"))), 400);
  EXPECT_EQ(status(Get("relative")), 400);
  EXPECT_EQ(status(Get("/" + std::string(kMaxPathBytes, 'a'))), 414);
  EXPECT_EQ(status(Get("/api/jobs", "limit=1&" + std::string(600, 'x'))), 414);
  EXPECT_EQ(status(Get("/etc/passwd")), 404);
  EXPECT_EQ(status(Get("/api/jobs/")), 404);
  EXPECT_EQ(status(Get("/api/jobs/0123456789ABCDEF")), 404);
  EXPECT_EQ(status(Get("/api/jobs/0123456789abcde")), 404);
  EXPECT_EQ(status(Get("/api/jobs/0123456789abcdef/x")), 404);
  DashboardRequest post = Get("/api/jobs");
  post.method = "POST";
  const DashboardResponse refused = handler.Handle(post);
  EXPECT_EQ(refused.status, 405);
  EXPECT_NE(
      std::find(refused.headers.begin(), refused.headers.end(),
                std::pair<std::string, std::string>{"Allow", "GET, HEAD"}),
      refused.headers.end());
}

TEST(DashboardHandlerTest, QueryErrorsNameTheParameterAndRange) {
  const DashboardHandler handler(nullptr, {});
  for (const char* query : {"limit=0", "limit=1001", "limit=abc",
                            "limit=", "limit=-1", "limit=99999999999"}) {
    const DashboardResponse r = handler.Handle(Get("/api/jobs", query));
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_NE(r.body.find("limit"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("[1, 1000]"), std::string::npos) << r.body;
  }
  const DashboardResponse unknown = handler.Handle(Get("/api/jobs", "page=2"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("'page': unknown"), std::string::npos);
  const DashboardResponse entries =
      handler.Handle(Get("/api/jobs/0123456789abcdef", "entries=5001"));
  EXPECT_EQ(entries.status, 400);
  EXPECT_NE(entries.body.find("entries = '5001'"), std::string::npos);
}

TEST(DashboardHandlerTest, ServesThePageAndScriptWithTheirPolicy) {
  const DashboardHandler handler(nullptr, {});
  const DashboardResponse page = handler.Handle(Get("/"));
  EXPECT_EQ(page.status, 200);
  EXPECT_TRUE(absl::StartsWith(page.content_type, "text/html"));
  EXPECT_NE(page.body.find("<svg id=\"parity\""), std::string::npos);
  EXPECT_NE(page.body.find("<script src=\"/dashboard.js\">"),
            std::string::npos);
  // Nothing from elsewhere.
  EXPECT_EQ(page.body.find("http"), std::string::npos);
  bool csp = false;
  for (const auto& [key, value] : page.headers) {
    if (key == "Content-Security-Policy") {
      csp = absl::StrContains(value, "default-src 'none'");
    }
  }
  EXPECT_TRUE(csp);
  const DashboardResponse script = handler.Handle(Get("/dashboard.js"));
  EXPECT_EQ(script.status, 200);
  EXPECT_TRUE(absl::StartsWith(script.content_type, "text/javascript"));
  EXPECT_EQ(script.body.find("innerHTML"), std::string::npos);
  // No address but the SVG namespace's name.
  std::string rest = script.body;
  const std::string svg_namespace = "http://www.w3.org/2000/svg";
  rest.erase(rest.find(svg_namespace), svg_namespace.size());
  EXPECT_EQ(rest.find("://"), std::string::npos);
}

TEST(DashboardHandlerTest, JobDocumentsMatchTheSnapshotAndExactTheory) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const ExperimentSpec spec = TinySpec(20000, 1000, 8, 11);
  const JobSnapshot job = Submit(*m, spec, "erf <b>\"N=8\"</b>");
  const JobSnapshot done = WaitDone(*m, job.name);
  ASSERT_EQ(done.state, JobState::kSucceeded);
  ASSERT_TRUE(done.estimate.has_value());
  const DashboardHandler handler(m.get(), {});

  const DashboardResponse list = handler.Handle(Get("/api/jobs"));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.body.find('<'), std::string::npos);  // label escaped
  const Struct l = Parse(list.body);
  EXPECT_EQ(Field(l, "total").number_value(), 1);
  ASSERT_EQ(Field(l, "jobs").list_value().values_size(), 1);
  const Struct& row = Field(l, "jobs").list_value().values(0).struct_value();
  EXPECT_EQ(Field(row, "id").string_value(), IdOf(job));
  EXPECT_EQ(Field(row, "label").string_value(), "erf <b>\"N=8\"</b>");
  EXPECT_EQ(Field(row, "state").string_value(), "SUCCEEDED");
  EXPECT_EQ(Field(row, "kind").string_value(), "correlators");
  EXPECT_EQ(Field(row, "networks_done").number_value(), 20000);
  EXPECT_EQ(Field(row, "networks_total").number_value(), 20000);
  EXPECT_GT(Field(row, "rate").number_value(), 0);
  EXPECT_EQ(Field(row, "eta_s").number_value(), 0);

  const DashboardResponse detail =
      handler.Handle(Get("/api/jobs/" + IdOf(job)));
  ASSERT_EQ(detail.status, 200) << detail.body;
  const Struct d = Parse(detail.body);
  EXPECT_EQ(Field(Field(d, "theory").struct_value(), "kind").string_value(),
            "exact");
  const CorrelatorEstimate& e = *done.estimate;
  const TupleSet tuples = *BuildTupleSet(spec, Limits{}.max_tuples);
  const TheoryValues theory = *ComputeTheory(spec, tuples);
  const auto& entries = Field(d, "entries").list_value();
  ASSERT_EQ(entries.values_size(), static_cast<int>(e.mean.size()));
  EXPECT_EQ(Field(d, "entries_total").number_value(), e.mean.size());
  for (int i = 0; i < entries.values_size(); ++i) {
    const Struct& entry = entries.values(i).struct_value();
    const double mean = Field(entry, "mean").number_value();
    const double stderr_mean = Field(entry, "stderr").number_value();
    const double exact = Field(entry, "theory").number_value();
    // Written with 10 significant digits.
    EXPECT_NEAR(mean, e.mean[i], 1e-9 * std::abs(e.mean[i]));
    EXPECT_NEAR(exact, theory.exact_full[i],
                1e-9 * std::abs(theory.exact_full[i]));
    EXPECT_EQ(Field(entry, "order").number_value(), e.tuples[i].size());
    // Seeded Monte Carlo of an erf net against its exact finite-width
    // correlators: every entry within 5 standard errors.
    EXPECT_LT(std::abs(Field(entry, "z").number_value()), 5.0) << i;
    EXPECT_NEAR(Field(entry, "z").number_value(), (mean - exact) / stderr_mean,
                1e-6);
    EXPECT_FALSE(Field(entry, "verdict").string_value().empty());
  }
  EXPECT_EQ(Field(d, "sweep").kind_case(), Value::kNullValue);
  EXPECT_EQ(Field(d, "error").kind_case(), Value::kNullValue);
  const Struct two =
      Parse(handler.Handle(Get("/api/jobs/" + IdOf(job), "entries=2")).body);
  EXPECT_EQ(Field(two, "entries").list_value().values_size(), 2);
  EXPECT_EQ(Field(two, "entries_total").number_value(), e.mean.size());
  EXPECT_EQ(handler.Handle(Get("/api/jobs/0123456789abcdef")).status, 404);
}

TEST(DashboardHandlerTest, ListsTheNewestJobsFirstUpToTheLimit) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  std::vector<JobSnapshot> jobs;
  for (int i = 0; i < 3; ++i) {
    jobs.push_back(
        Submit(*m, TinySpec(200, 100, 8, 100 + i), absl::StrCat("job ", i)));
    absl::SleepFor(absl::Milliseconds(5));  // distinct creation times
  }
  const DashboardHandler handler(m.get(), {});
  const Struct l = Parse(handler.Handle(Get("/api/jobs", "limit=2")).body);
  EXPECT_EQ(Field(l, "total").number_value(), 3);
  const auto& rows = Field(l, "jobs").list_value();
  ASSERT_EQ(rows.values_size(), 2);
  EXPECT_EQ(Field(rows.values(0).struct_value(), "id").string_value(),
            IdOf(jobs[2]));
  EXPECT_EQ(Field(rows.values(1).struct_value(), "id").string_value(),
            IdOf(jobs[1]));
}

TEST(DashboardHandlerTest, JobFinishedBeforeARestartShowsItsStoredResult) {
  TempDir dir;
  std::string id;
  std::vector<double> mean;
  {
    auto m = OpenManager(Options(dir.path()));
    const JobSnapshot job = Submit(*m, TinySpec(4000, 1000, 8, 5), "before");
    const JobSnapshot done = WaitDone(*m, job.name);
    ASSERT_TRUE(done.estimate.has_value());
    id = IdOf(job);
    mean = done.estimate->mean;
  }
  auto m = OpenManager(Options(dir.path()));
  ASSERT_FALSE(m->Get("jobs/" + id)->estimate.has_value());
  const DashboardHandler handler(m.get(), {});
  const Struct d = Parse(handler.Handle(Get("/api/jobs/" + id)).body);
  const auto& entries = Field(d, "entries").list_value();
  ASSERT_EQ(entries.values_size(), static_cast<int>(mean.size()));
  EXPECT_NEAR(Field(entries.values(0).struct_value(), "mean").number_value(),
              mean[0], 1e-9 * std::abs(mean[0]));
  EXPECT_EQ(Field(Field(d, "theory").struct_value(), "kind").string_value(),
            "exact");
}

TEST(DashboardHandlerTest, WidthSweepCarriesThePerWidthFitPoints) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  ExperimentSpec spec = TinySpec(8000, 1000);
  spec.points.resize(2, 1);
  spec.points << 0.5, -1.0;
  spec.observables.tuples = {{0, 1}, {0, 0, 1, 1}};
  spec.sampling.integrate_output_layer = true;
  spec.width_sweep = {2, 4, 8};
  const JobSnapshot job = Submit(*m, spec, "sweep");
  const JobSnapshot done = WaitDone(*m, job.name);
  ASSERT_EQ(done.state, JobState::kSucceeded);
  ASSERT_EQ(done.sweep.size(), 3u);
  const DashboardHandler handler(m.get(), {});
  const Struct d = Parse(handler.Handle(Get("/api/jobs/" + IdOf(job))).body);
  EXPECT_EQ(Field(Field(d, "job").struct_value(), "kind").string_value(),
            "width_sweep");
  EXPECT_EQ(Field(Field(d, "estimate").struct_value(), "width").number_value(),
            8);
  const Struct& sweep = Field(d, "sweep").struct_value();
  const auto& fits = Field(sweep, "fits").list_value();
  ASSERT_GE(fits.values_size(), 1);
  const Struct& fit = fits.values(0).struct_value();
  EXPECT_EQ(Field(fit, "order").number_value(), 4);
  EXPECT_EQ(Field(fit, "expected_exponent").number_value(), -1);
  const auto& points = Field(fit, "points").list_value();
  ASSERT_EQ(points.values_size(), 3);
  for (int w = 0; w < 3; ++w) {
    const Struct& p = points.values(w).struct_value();
    EXPECT_EQ(Field(p, "width").number_value(), done.sweep[w].width);
    // The fitted value is that width's connected correlator, with exact
    // finite-width theory beside it.
    const CorrelatorEstimate& e = *done.sweep[w].estimate;
    const int k = static_cast<int>(
        std::find(e.tuples.begin(), e.tuples.end(), Tuple{0, 0, 1, 1}) -
        e.tuples.begin());
    ASSERT_LT(k, static_cast<int>(e.tuples.size()));
    EXPECT_NEAR(Field(p, "value").number_value(), e.connected[k],
                1e-9 * std::abs(e.connected[k]));
    EXPECT_NEAR(Field(p, "theory").number_value(),
                done.sweep[w].theory->exact_connected[k],
                1e-9 * std::abs(done.sweep[w].theory->exact_connected[k]));
  }
}

TEST(DashboardHandlerTest, TokensGateTheDataAndScopeItToThePrincipal) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot job = Submit(*m, TinySpec(200, 100), "alice's", "alice");
  WaitDone(*m, job.name);
  auto entries = ParseTokenFile(
      "tokens", absl::StrCat(kAliceToken, " alice\n", kBobToken, " bob\n"));
  ASSERT_TRUE(entries.ok()) << entries.status();
  const TokenAuthenticator auth(*std::move(entries));
  const DashboardHandler handler(m.get(), {.auth = &auth});
  const std::string detail = "/api/jobs/" + IdOf(job);

  for (const std::string& header :
       {std::string(), std::string(kAliceToken),
        std::string("Bearer wrong-token-0123456789"),
        std::string("Basic ") + kAliceToken}) {
    for (const std::string& path : {std::string("/api/jobs"), detail}) {
      const DashboardResponse r = handler.Handle(Get(path, "", header));
      EXPECT_EQ(r.status, 401) << path << " with '" << header << "'";
      EXPECT_EQ(r.body.find(kAliceToken), std::string::npos);
      EXPECT_NE(std::find(r.headers.begin(), r.headers.end(),
                          std::pair<std::string, std::string>{
                              "WWW-Authenticate", "Bearer realm=\"nnft\""}),
                r.headers.end());
    }
  }
  // The page itself carries no data.
  EXPECT_EQ(handler.Handle(Get("/")).status, 200);

  const std::string alice = absl::StrCat("Bearer ", kAliceToken);
  const Struct mine = Parse(handler.Handle(Get("/api/jobs", "", alice)).body);
  EXPECT_EQ(Field(mine, "total").number_value(), 1);
  EXPECT_EQ(handler.Handle(Get(detail, "", alice)).status, 200);

  const std::string bob = absl::StrCat("Bearer ", kBobToken);
  const Struct theirs = Parse(handler.Handle(Get("/api/jobs", "", bob)).body);
  EXPECT_EQ(Field(theirs, "total").number_value(), 0);
  EXPECT_EQ(handler.Handle(Get(detail, "", bob)).status, 404);
}

TEST(DashboardServerTest, OptionsNameTheBadListenAddress) {
  for (const char* listen :
       {"", "8080", ":8080", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:8x",
        "127.0.0.1:1,127.0.0.1:2", "127.0.0.1:80s"}) {
    const absl::Status s = DashboardOptions{.listen = listen}.Validate();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << listen;
    EXPECT_NE(s.message().find("dashboard_listen"), std::string::npos);
  }
  EXPECT_TRUE(DashboardOptions{.listen = "127.0.0.1:0"}.Validate().ok());
  const DashboardOptions no_threads{.listen = "127.0.0.1:0", .threads = 0};
  EXPECT_EQ(no_threads.Validate().code(), absl::StatusCode::kInvalidArgument);
}

// One raw HTTP/1.0 exchange with 127.0.0.1:port; the whole answer.
std::string Exchange(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    ADD_FAILURE() << "connect to port " << port;
    return "";
  }
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n =
        send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string answer;
  char buffer[4096];
  for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
    answer.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return answer;
}

int StatusOf(const std::string& answer) {
  int status = 0;
  if (answer.size() > 12) status = std::atoi(answer.substr(9, 3).c_str());
  return status;
}

TEST(DashboardServerTest, AnswersOverHttpAndRefusesEncodedTraversal) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  const JobSnapshot job = Submit(*m, TinySpec(200, 100), "over http");
  WaitDone(*m, job.name);
  auto server = DashboardServer::Start(m.get(), {.listen = "127.0.0.1:0"});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = (*server)->address();
  const int port = std::atoi(address.substr(address.rfind(':') + 1).c_str());
  ASSERT_GT(port, 0);
  const auto get = [&](const std::string& target) {
    return Exchange(port, "GET " + target + " HTTP/1.0\r\n\r\n");
  };
  const std::string list = get("/api/jobs");
  EXPECT_EQ(StatusOf(list), 200) << list;
  EXPECT_NE(list.find(IdOf(job)), std::string::npos);
  EXPECT_NE(list.find("Content-Type: application/json"), std::string::npos);
  EXPECT_EQ(StatusOf(get("/api/jobs/" + IdOf(job))), 200);
  EXPECT_EQ(StatusOf(get("/")), 200);
  // Percent-encoded dots are decoded before the path is checked.
  EXPECT_EQ(StatusOf(get("/api/jobs/%2e%2e/%2e%2e/etc/passwd")), 400);
  EXPECT_EQ(StatusOf(get("/%2E%2E/dashboard.js")), 400);
  EXPECT_EQ(StatusOf(get("/api/jobs%2f..%2fx")), 400);
  EXPECT_EQ(StatusOf(get("/api/jobs/" + std::string(600, 'a'))), 414);
  EXPECT_EQ(StatusOf(get("/api/jobs?limit=" + std::string(600, '1'))), 414);
  // Past the HTTP server's request limit: refused before the handler.
  const int huge = StatusOf(get("/" + std::string(20000, 'a')));
  EXPECT_GE(huge, 400);
  EXPECT_LT(huge, 500);
  // HEAD: the headers alone.
  const std::string head = Exchange(port, "HEAD /api/jobs HTTP/1.0\r\n\r\n");
  EXPECT_EQ(StatusOf(head), 200);
  EXPECT_TRUE(absl::EndsWith(head, "\r\n\r\n")) << head;
}

TEST(DashboardServerTest, PortInUseIsUnavailable) {
  TempDir dir;
  auto m = OpenManager(Options(dir.path()));
  auto first = DashboardServer::Start(m.get(), {.listen = "127.0.0.1:0"});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second =
      DashboardServer::Start(m.get(), {.listen = (*first)->address()});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("dashboard_listen"),
            std::string::npos);
}

}  // namespace
}  // namespace nnft::server
