// The real Prometheus server (Debian's prometheus package) scrapes the /metrics endpoints of two
// ranks of one job on 127.0.0.1, and its HTTP API's sum by job of the device joules equals the
// sum of the ranks' meters (issue 14). ctest label `prometheus`; skipped without /usr/bin/prometheus.
//
// Exact by design: each rank runs on a ManualClock with meters of constant power, one epoch of
// 10 s, and its clock then stands still, so every reading its endpoint serves is final before
// Prometheus starts; every sample Prometheus stores is that final value, whatever the scrape times.
#include <gtest/gtest.h>
#include <httplib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "epochwatt/epochwatt.hpp"
#include "report/metrics_server.hpp"
#include "unit/support.hpp"

extern char** environ;

namespace {

using namespace epochwatt;
using Seconds = std::chrono::duration<double>;

constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr double kDeadlineS = 40.0;  // Prometheus' start and first scrapes, on a loaded machine

// A child process, ended (SIGTERM, then SIGKILL after 5 s) when it goes out of scope.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (::posix_spawn(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) pid_ = -1;
  }
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > until) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  bool started() const { return pid_ > 0; }
  bool running() {
    int status = 0;
    return pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == 0;
  }

 private:
  pid_t pid_ = -1;
};

// One rank of the job: a tracker with its own clock, meters and endpoint (any free port).
struct Rank {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  std::shared_ptr<detail::MetricsEndpointReporter> endpoint =
      std::make_shared<detail::MetricsEndpointReporter>("127.0.0.1:0");
  std::unique_ptr<Tracker> tracker;

  Rank(int rank, const std::string& node, std::vector<std::shared_ptr<Meter>> meters) {
    Options o = ewtest::deterministic_options(clock, &console, 5);
    o.rank = rank;
    o.world_size = 2;
    o.job_id = "ddp-job";
    o.node = node;
    TrackerParts parts;
    parts.meters = std::move(meters);
    parts.reporters.push_back(endpoint);
    tracker = std::make_unique<Tracker>(o, std::move(parts));
  }
  // The IT joules the rank measured: its set-up (0 s here) and its epochs, from its own accessors.
  double measured_joules() const {
    double j = 0;
    for (const auto& e : tracker->epochs()) j += e.joules;
    return j;
  }
};

// A port that is free now: bound to port 0 by the kernel's choice and let go (plain sockets:
// cpp-httplib's Server keeps a bound socket open after its destruction when it never listened).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

// The value of the single sample of a query's result, with the count of results.
struct QueryResult {
  std::size_t series = 0;
  double value = 0;
};
std::optional<QueryResult> instant_query(httplib::Client& api, const std::string& promql) {
  auto res = api.Get("/api/v1/query", httplib::Params{{"query", promql}}, httplib::Headers{});
  if (!res || res->status != 200) return std::nullopt;
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (j.is_discarded() || j.value("status", "") != "success") return std::nullopt;
  const auto& result = j["data"]["result"];
  QueryResult q;
  q.series = result.size();
  if (q.series == 1) q.value = std::stod(result[0]["value"][1].get<std::string>());
  return q;
}

TEST(PrometheusScrape, TheJobsSummedJoulesEqualTheRanksMeters) {
  if (!std::filesystem::exists(kPrometheus)) GTEST_SKIP() << "prometheus not installed (apt-get install prometheus)";
  // Rank 0 on node a drives a GPU and measures the node's CPU; rank 1 on node b drives a GPU.
  Rank r0(0, "node-a",
          {std::make_shared<ewtest::ScriptedMeter>("sim:gpu0", Component::gpu, "gpu:0", 150.0),
           std::make_shared<ewtest::ScriptedMeter>("sim:cpu0", Component::cpu, "cpu:0", 45.0)});
  Rank r1(1, "node-b", {std::make_shared<ewtest::ScriptedMeter>("sim:gpu0", Component::gpu, "gpu:0", 250.0)});
  for (Rank* r : {&r0, &r1}) {
    ASSERT_TRUE(r->endpoint->port()) << r->console.str();
    ASSERT_TRUE(ewtest::run_epoch(*r->tracker, *r->clock, 10.0));  // then the clock stands still
  }
  double expected = r0.measured_joules() + r1.measured_joules();
  // What each rank's endpoint serves, read directly, sums to the same.
  double served = 0;
  for (Rank* r : {&r0, &r1}) {
    httplib::Client c("127.0.0.1", *r->endpoint->port());
    auto res = c.Get("/metrics");
    ASSERT_TRUE(res);
    for (const auto& line : ewtest::split_lines(res->body))
      if (line.rfind("epochwatt_device_energy_joules_total{", 0) == 0) served += std::stod(line.substr(line.rfind(' ') + 1));
  }
  EXPECT_EQ(served, expected);

  ewtest::TempDir dir;
  int web_port = free_port();
  ASSERT_GT(web_port, 0);
  // honor_labels: the job label is the ranks' own (the job id), not the scrape job's name.
  std::string config = "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                       "scrape_configs:\n  - job_name: epochwatt\n    honor_labels: true\n"
                       "    static_configs:\n      - targets: ['127.0.0.1:" +
                       std::to_string(*r0.endpoint->port()) + "', '127.0.0.1:" + std::to_string(*r1.endpoint->port()) +
                       "']\n";
  std::string config_path = (dir.path() / "prometheus.yml").string();
  ewtest::write_file(config_path, config);
  Child prometheus({kPrometheus, "--config.file=" + config_path, "--storage.tsdb.path=" + (dir.path() / "data").string(),
                    "--web.listen-address=127.0.0.1:" + std::to_string(web_port), "--log.level=warn"});
  ASSERT_TRUE(prometheus.started());

  httplib::Client api("127.0.0.1", web_port);
  api.set_connection_timeout(2);
  api.set_read_timeout(5);
  const std::string selector = "epochwatt_device_energy_joules_total{job=\"ddp-job\"}";
  std::optional<QueryResult> count, sum;
  auto deadline = std::chrono::steady_clock::now() + Seconds(kDeadlineS);
  while (std::chrono::steady_clock::now() < deadline && prometheus.running()) {
    // Both ranks' three device series stored (at their final values, the only ones served).
    count = instant_query(api, "count by (job) (" + selector + ")");
    if (count && count->series == 1 && count->value == 3) {
      sum = instant_query(api, "sum by (job) (" + selector + ")");
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_TRUE(sum) << "Prometheus did not store both ranks' series within " << kDeadlineS << " s (running: "
                   << prometheus.running() << ")";
  ASSERT_EQ(sum->series, 1u);
  EXPECT_EQ(sum->value, expected);
  EXPECT_GT(expected, 0.0);
  // The epochs ended, summed over the job: one per rank.
  auto epochs = instant_query(api, "sum by (job) (epochwatt_epochs_ended_total{job=\"ddp-job\"})");
  ASSERT_TRUE(epochs);
  EXPECT_EQ(epochs->value, 2.0);
  for (Rank* r : {&r0, &r1}) r->tracker->stop();
}

}  // namespace
