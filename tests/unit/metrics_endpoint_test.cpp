// The /metrics endpoint (Options::metrics_listen, docs/cluster.md): the address's parsing, the
// exposition text (live joules between epoch ends, labels, one series per device and metric,
// promtool's verdict), and the HTTP server (served from its own threads until stop(), 404
// elsewhere, a port in use gives one warning and the run goes on).
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <sstream>

#include "core/listen_address.hpp"
#include "epochwatt/defaults.hpp"
#include "epochwatt/errors.hpp"
#include "report/metrics_exposition.hpp"
#include "report/metrics_server.hpp"
#include "report/prometheus_output.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
using epochwatt::detail::LiveMetricsReporter;
using epochwatt::detail::MetricsEndpointReporter;

// Collects the err channel's warnings (what a user would read in the err log).
class Warnings final : public Reporter {
 public:
  void message(const Message& m) override {
    if (m.channel != Message::Channel::err || m.severity != Severity::warning) return;
    std::lock_guard lk(mu_);
    texts_.push_back(m.text);
  }
  std::vector<std::string> texts() const {
    std::lock_guard lk(mu_);
    return texts_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> texts_;
};

// Options of one rank of a two-rank job, with two scripted meters (GPU 150 W, CPU 45 W).
struct RankRun {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  TrackerParts parts;
  Options options;
  RankRun(int rank, std::shared_ptr<Reporter> reporter, int epochs = 3) {
    options = ewtest::deterministic_options(clock, &console, epochs);
    options.rank = rank;
    options.world_size = 2;
    options.job_id = "job-42";
    options.node = "node-a";
    options.epochs_before_pred = 1;
    parts.meters = {std::make_shared<ewtest::ScriptedMeter>("sim:gpu0", Component::gpu, "gpu:0", 150.0),
                    std::make_shared<ewtest::ScriptedMeter>("sim:cpu0", Component::cpu, "cpu:0", 45.0)};
    parts.reporters.push_back(std::move(reporter));
  }
};

// The value of the one sample line that starts with `prefix` (name and labels up to a point).
std::optional<std::string> sample_value(const std::string& text, const std::string& prefix) {
  std::optional<std::string> found;
  for (const auto& line : ewtest::split_lines(text)) {
    if (line.rfind(prefix, 0) != 0) continue;
    if (found) return std::nullopt;  // more than one: not the one series expected
    found = line.substr(line.rfind(' ') + 1);
  }
  return found;
}

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

std::size_t samples_of(const std::string& text, const std::string& name) {
  std::size_t n = 0;
  for (const auto& line : ewtest::split_lines(text))
    if (line.rfind(name + "{", 0) == 0) ++n;
  return n;
}

TEST(MetricsListenAddress, ParsesAddressesAndDefaultsToLoopback) {
  auto a = detail::parse_listen_address(":9400");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 9400);
  a = detail::parse_listen_address("localhost:1");
  EXPECT_EQ(a.host, "127.0.0.1");
  a = detail::parse_listen_address("0.0.0.0:65535");
  EXPECT_EQ(a.host, "0.0.0.0");
  EXPECT_EQ(a.port, 65535);
  a = detail::parse_listen_address("[::1]:0");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 0);
}

TEST(MetricsListenAddress, RefusesWhatIsNotAnAddressWithAClearMessage) {
  for (const char* bad : {"9400", ":", "127.0.0.1:", ":65536", ":-1", ":94x", "example.org:9400", "[::1:9400",
                          "[zz]:9400", "1.2.3:9400"}) {
    Options o;
    o.epochs = 1;
    o.metrics_listen = bad;
    try {
      validate(o);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const OptionsError& e) {
      std::string what = e.what();
      EXPECT_NE(what.find("metrics_listen '" + std::string(bad) + "'"), std::string::npos) << what;
      EXPECT_NE(what.find("expected ADDR:PORT"), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

TEST(LiveMetrics, JoulesAreLiveBetweenEpochEndsWithTheJobsLabels) {
  auto metrics = std::make_shared<LiveMetricsReporter>();
  RankRun r(1, metrics);
  Tracker t(r.options, std::move(r.parts));
  // A boundary makes the sampler read every meter at its time (flush() waits for that round): an
  // epoch's start at 4 s, so no epoch has ended when the counters are looked at.
  r.clock->advance(4.0);
  t.epoch_start();
  t.flush();
  std::string text = metrics->exposition();
  const std::string gpu = "epochwatt_device_energy_joules_total{job=\"job-42\",rank=\"1\",node=\"node-a\","
                          "component=\"gpu\",device=\"gpu:0\",method=\"counter\",meter=\"sim:gpu0\"}";
  const std::string cpu = "epochwatt_device_energy_joules_total{job=\"job-42\",rank=\"1\",node=\"node-a\","
                          "component=\"cpu\",device=\"cpu:0\",method=\"counter\",meter=\"sim:cpu0\"}";
  EXPECT_EQ(sample_value(text, gpu), detail::prometheus_number(600.0)) << text;  // 150 W x 4 s, before any epoch ended
  EXPECT_EQ(sample_value(text, cpu), detail::prometheus_number(180.0)) << text;
  EXPECT_EQ(sample_value(text, "epochwatt_epochs_ended_total{"), "0") << text;
  EXPECT_EQ(samples_of(text, "epochwatt_predicted_energy_joules"), 0u) << "no prediction before epoch 1";

  r.clock->advance(10.0);
  ASSERT_TRUE(t.epoch_end());  // epoch 1: from 4 s to 14 s
  r.clock->advance(2.0);
  t.epoch_start();  // epoch 2 starts at 16 s: a reading then, with one epoch ended
  t.flush();
  text = metrics->exposition();
  EXPECT_EQ(sample_value(text, gpu), detail::prometheus_number(150.0 * 16)) << text;
  EXPECT_EQ(sample_value(text, "epochwatt_device_power_watts{job=\"job-42\",rank=\"1\",node=\"node-a\",component=\"gpu\""),
            detail::prometheus_number(150.0))
      << text;
  EXPECT_EQ(sample_value(text, "epochwatt_epochs_ended_total{"), "1") << text;
  // The newest prediction: 3 epochs of the first's energy, with PUE (Run::latest_prediction).
  auto predicted = t.prediction();
  ASSERT_TRUE(predicted);
  EXPECT_EQ(sample_value(text, "epochwatt_predicted_energy_joules{"),
            detail::prometheus_number(predicted->energy_kwh * kJoulesPerKwh))
      << text;
  EXPECT_EQ(sample_value(text, "epochwatt_predicted_emissions_grams{"), detail::prometheus_number(predicted->co2_g)) << text;
  // The intensity: the gauge in g/J, and the source in an info series of its own.
  EXPECT_EQ(samples_of(text, "epochwatt_carbon_intensity_grams_per_joule"), 1u) << text;
  EXPECT_EQ(samples_of(text, "epochwatt_carbon_intensity_source_info"), 1u) << text;
  EXPECT_NE(text.find("epochwatt_carbon_intensity_source_info{job=\"job-42\",rank=\"1\",node=\"node-a\",source=\""),
            std::string::npos)
      << text;
  // One series per device and metric; HELP and TYPE once per family.
  EXPECT_EQ(samples_of(text, "epochwatt_device_energy_joules_total"), 2u);
  EXPECT_EQ(samples_of(text, "epochwatt_device_power_watts"), 2u);
  EXPECT_EQ(ewtest::count_occurrences(text, "# TYPE epochwatt_device_energy_joules_total counter\n"), 1u);
  EXPECT_EQ(ewtest::count_occurrences(text, "# HELP epochwatt_device_energy_joules_total "), 1u);
  t.stop();
  EXPECT_EQ(sample_value(metrics->exposition(), "epochwatt_run_finished{"), "1");
}

// The value of label `name` on the exposition's epochwatt_run_info line.
std::string info_label(const std::string& text, const std::string& name) {
  for (const auto& line : ewtest::split_lines(text)) {
    if (line.rfind("epochwatt_run_info{", 0) != 0) continue;
    std::size_t at = line.find(name + "=\"");
    if (at == std::string::npos) return "(no label " + name + ")";
    at += name.size() + 2;
    return line.substr(at, line.find('"', at) - at);
  }
  return "(no epochwatt_run_info)";
}

// Review of issue 14, fault 10: the ranks of a job without a job id used to be labelled each with
// its own run id, so `sum by (job)` split the job into one series per rank. They now agree: on the
// launcher's id where one exists (here torch's rendezvous address, the ranks given by the
// options), else on an empty label; a single process keeps its run id.
TEST(LiveMetrics, TheRanksOfAJobWithoutAJobIdShareOneJobLabel) {
  std::vector<std::unique_ptr<ewtest::ScopedEnv>> clean;
  for (const char* v : {"EPOCHWATT_JOB_ID", "SLURM_JOB_ID", "SLURM_JOBID", "TORCHELASTIC_RUN_ID", "OMPI_MCA_ess_base_jobid",
                        "OMPI_MCA_orte_ess_jobid", "PMIX_NAMESPACE", "MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE",
                        "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "SLURM_PROCID"})
    clean.push_back(std::make_unique<ewtest::ScopedEnv>(v, std::nullopt));
  auto labels = [](int world_size) {
    std::vector<std::string> out;
    for (int rank = 0; rank < world_size; ++rank) {
      auto metrics = std::make_shared<LiveMetricsReporter>();
      RankRun r(rank, metrics, 1);
      r.options.job_id.clear();
      r.options.world_size = world_size;
      Tracker t(r.options, std::move(r.parts));
      std::string text = metrics->exposition();
      EXPECT_EQ(info_label(text, "rank"), std::to_string(rank)) << text;
      out.push_back(info_label(text, "job"));
      if (world_size == 1) {
        EXPECT_EQ(out.back(), info_label(text, "run_id")) << text;
      }
      t.stop();
    }
    return out;
  };
  EXPECT_EQ(labels(2), (std::vector<std::string>{"", ""}));
  {
    ewtest::ScopedEnv addr("MASTER_ADDR", "10.0.0.1"), port("MASTER_PORT", "29500");
    EXPECT_EQ(labels(2), (std::vector<std::string>{"torch-10.0.0.1:29500", "torch-10.0.0.1:29500"}));
  }
  EXPECT_NE(labels(1).front(), "");
}

TEST(LiveMetrics, PassesPromtoolsCheck) {
  const char* promtool = "/usr/bin/promtool";
  if (!std::filesystem::exists(promtool)) GTEST_SKIP() << "promtool not installed (apt-get install prometheus)";
  auto metrics = std::make_shared<LiveMetricsReporter>();
  RankRun r(0, metrics);
  Tracker t(r.options, std::move(r.parts));
  ASSERT_TRUE(ewtest::run_epoch(t, *r.clock, 10.0));
  r.clock->advance(3.0);
  t.flush();
  ewtest::TempDir dir;
  std::string path = (dir.path() / "metrics.prom").string();
  ewtest::write_file(path, metrics->exposition());
  auto res = ewtest::run_command(std::string(promtool) + " check metrics < " + ewtest::shell_quote(path) + " 2>&1");
  EXPECT_EQ(res.status, 0) << res.out << "\n" << metrics->exposition();
  EXPECT_EQ(res.out, "") << "promtool's naming advice: " << res.out;
}

TEST(MetricsEndpoint, ServesTheExpositionFromItsOwnThreadUntilStop) {
  auto endpoint = std::make_shared<MetricsEndpointReporter>("127.0.0.1:0");  // any free port
  RankRun r(0, endpoint);
  Tracker t(r.options, std::move(r.parts));
  ASSERT_TRUE(endpoint->port());
  int port = *endpoint->port();
  ASSERT_TRUE(ewtest::run_epoch(t, *r.clock, 10.0));
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res->body, endpoint->exposition());  // the clock stands still: nothing moved since
  EXPECT_EQ(sample_value(res->body, "epochwatt_device_energy_joules_total{job=\"job-42\",rank=\"0\",node=\"node-a\","
                                    "component=\"gpu\""),
            detail::prometheus_number(1500.0));
  auto other = client.Get("/");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  t.stop();  // the final values were served until here; the port closes with the tracker
  EXPECT_FALSE(endpoint->port());
  httplib::Client after("127.0.0.1", port);
  after.set_connection_timeout(2);
  EXPECT_FALSE(static_cast<bool>(after.Get("/metrics"))) << "still serving after stop()";
}

TEST(MetricsEndpoint, APortInUseGivesOneWarningAndTheRunGoesOn) {
  auto first = std::make_shared<MetricsEndpointReporter>("127.0.0.1:0");
  RankRun a(0, first);
  Tracker ta(a.options, std::move(a.parts));
  ASSERT_TRUE(first->port());
  auto second = std::make_shared<MetricsEndpointReporter>("127.0.0.1:" + std::to_string(*first->port()));
  auto warnings = std::make_shared<Warnings>();
  RankRun b(1, second);
  b.parts.reporters.push_back(warnings);
  Tracker tb(b.options, std::move(b.parts));
  EXPECT_FALSE(second->port());
  auto w = warnings->texts();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("The metrics endpoint is off: cannot bind 127.0.0.1:" + std::to_string(*first->port())),
            std::string::npos)
      << w[0];
  ASSERT_TRUE(ewtest::run_epoch(tb, *b.clock, 10.0));
  tb.stop();
  EXPECT_EQ(tb.totals().epochs, 1);
  EXPECT_EQ(warnings->texts().size(), 1u);
  // The first endpoint still answers: the second did not take its port.
  httplib::Client client("127.0.0.1", *first->port());
  client.set_connection_timeout(5);
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("rank=\"0\""), std::string::npos);
  EXPECT_EQ(res->body.find("rank=\"1\""), std::string::npos);
}

TEST(MetricsEndpoint, TheDefaultTrackerServesWhatOptionsAsk) {
  // Tracker(Options): default_tracker_parts adds the endpoint for metrics_listen.
  auto clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  Options o = ewtest::deterministic_options(clock, &console, 2);
  o.meters = {std::make_shared<ewtest::ScriptedMeter>("sim:gpu0", Component::gpu, "gpu:0", 100.0)};
  o.write_json_summary = false;
  o.job_id = "default-job";
  int port = free_port();
  ASSERT_GT(port, 0);
  o.metrics_listen = ":" + std::to_string(port);
  Tracker t(o);
  clock->advance(5.0);
  t.epoch_start();  // a boundary: every meter is read at 5 s
  t.flush();
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error()) << "\n" << console.str();
  EXPECT_EQ(sample_value(res->body, "epochwatt_device_energy_joules_total{job=\"default-job\",rank=\"0\""), detail::prometheus_number(500.0))
      << res->body;
  t.stop();
}

}  // namespace
