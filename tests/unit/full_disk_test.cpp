// A full disk (issue 12 item 9), through a fault-injecting FileSink: real files in a temporary
// folder, whose write() takes only as many bytes as the test leaves room for and then fails with
// ENOSPC, as a full file system does (a short write, then the error). Every output of a run goes
// through it: carbontracker's three logs, the JSON summary, the CSV, JSON Lines and Prometheus.
// What must hold: one warning per file on the console, nothing cut mid-line, the gap marked once
// there is room again, the figures whole in memory and in the other outputs, no temporary file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "epochwatt/epochwatt.hpp"
#include "report/codecarbon_csv.hpp"
#include "report/ct_logs.hpp"
#include "report/ct_reporter.hpp"
#include "report/file_sink.hpp"
#include "report/json_summary.hpp"
#include "report/jsonl_output.hpp"
#include "report/log_parse.hpp"
#include "report/prometheus_output.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
namespace fs = std::filesystem;

// The real file system, with `room` bytes left for write() (-1: no limit).
class FullDisk final : public detail::FileSink {
 public:
  std::atomic<long> room{-1};
  ssize_t write(int fd, const char* data, std::size_t n) override {
    long left = room.load();
    if (left < 0) return detail::FileSink::write(fd, data, n);
    if (left == 0) {
      errno = ENOSPC;
      return -1;
    }
    std::size_t take = std::min<std::size_t>(n, static_cast<std::size_t>(left));
    ssize_t done = detail::FileSink::write(fd, data, take);
    if (done > 0) room -= done;
    return done;
  }
};

// Keeps what the tracker puts in the run's warnings, as the JSON summary would hold them.
class WarningsSeen final : public Reporter {
 public:
  std::vector<std::string> warnings;
  void run_finished(const Run& run) override { warnings = run.warnings; }
};

struct DiskRun {
  ewtest::TempDir dir;
  std::shared_ptr<FullDisk> disk = std::make_shared<FullDisk>();
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::ostringstream console;
  std::string csv, jsonl, prom, json;
  RunFiles files;
  std::shared_ptr<WarningsSeen> seen = std::make_shared<WarningsSeen>();
  Consumption totals;
  std::size_t epochs_in_memory = 0;

  DiskRun() {
    csv = (dir.path() / "emissions.csv").string();
    jsonl = (dir.path() / "run.jsonl").string();
    prom = (dir.path() / "epochwatt.prom").string();
    json = (dir.path() / "summary.json").string();
  }

  // Three epochs of 10 s; before(e) runs before epoch e (1-based), after(4) before stop().
  template <class F>
  void run(F&& before) {
    ewtest::ScopedEnv tz("TZ", "UTC");
    Options o = ewtest::deterministic_options(clock, &console, 3);
    TrackerParts parts;
    parts.meters = ewtest::section14_meters();
    auto log = std::make_shared<detail::CtLogger>(clock, &console, 1, (dir.path() / "logs").string(), "", disk);
    files = {log->files().standard, log->files().output, log->files().error, json};
    parts.files = files;
    parts.reporters = {std::make_shared<detail::CarbontrackerReporter>(log),
                       std::make_shared<detail::JsonlReporter>(jsonl, disk),
                       std::make_shared<detail::PrometheusReporter>(prom, disk),
                       std::make_shared<detail::CsvReporter>(csv, "/nonexistent-proc", disk),
                       seen,
                       std::make_shared<detail::JsonSummaryReporter>(json, disk)};
    {
      Tracker t(o, std::move(parts));
      for (int e = 1; e <= 3; ++e) {
        before(e);
        ewtest::run_epoch(t, *clock, 10.0);
      }
      before(4);
      t.stop();
      totals = t.totals();
      epochs_in_memory = t.epochs().size();
    }
  }

  std::size_t console_warnings(const std::string& what) const {
    std::size_t n = 0;
    for (const auto& l : ewtest::split_lines(console.str()))
      if (l.rfind("CarbonTracker: WARNING - " + what + " not written", 0) == 0) ++n;
    return n;
  }
};

void expect_no_temporary_file(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
}

// A file is never left ending inside a line.
void expect_whole_lines(const std::string& path) {
  std::string text = ewtest::read_file(path);
  if (!text.empty()) {
    EXPECT_EQ(text.back(), '\n') << path << " ends mid-line:\n" << text;
  }
}

const char* const kLogs[] = {"Output log", "Standard log", "Error log"};
const char* const kOutputs[] = {"JSON Lines output", "Prometheus output"};

TEST(FullDisk, FullBeforeTheRunThenRoomAgain) {
  DiskRun r;
  r.disk->room = 0;
  r.run([&](int e) {
    if (e == 3) r.disk->room = -1;  // room again before the third epoch
  });
  // One warning per file that could not be written, on the console.
  for (const char* what : kLogs) EXPECT_EQ(r.console_warnings(what), 1u) << what << "\n" << r.console.str();
  for (const char* what : kOutputs) EXPECT_EQ(r.console_warnings(what), 1u) << what << "\n" << r.console.str();
  EXPECT_EQ(r.console_warnings("CSV output"), 0u);     // written at the end, with room
  EXPECT_EQ(r.console_warnings("JSON summary"), 0u);
  // The warnings are in the run's warnings (and so the JSON summary) too, once each.
  for (const char* what : kLogs) {
    std::size_t n = 0;
    for (const auto& w : r.seen->warnings) n += w.rfind(std::string(what) + " not written", 0) == 0;
    EXPECT_EQ(n, 1u) << what;
  }
  auto summary = nlohmann::json::parse(ewtest::read_file(r.json));
  EXPECT_EQ(summary["warnings"].size(), r.seen->warnings.size());
  // The gap is marked, and the lines held while the disk was full follow it: the standard log
  // has every epoch, in order, after the marker.
  std::string std_log = ewtest::read_file(r.files.standard_log);
  std::size_t marker = std_log.find("could not be written from");
  ASSERT_NE(marker, std::string::npos) << std_log;
  EXPECT_LT(marker, std_log.find("epochwatt version"));
  for (int e = 1; e <= 3; ++e) EXPECT_NE(std_log.find("Epoch " + std::to_string(e) + ":"), std::string::npos) << std_log;
  EXPECT_NE(std_log.find("Monitoring thread ended."), std::string::npos);
  for (const auto& p : {r.files.standard_log, r.files.output_log, r.files.error_log}) expect_whole_lines(p);
  EXPECT_NE(ewtest::read_file(r.files.output_log).find("Actual consumption"), std::string::npos);
  // The marker lines are passed over: the pair reads back as the run, every epoch in it.
  detail::ParsedRun parsed = detail::parse_log_pair(r.files.standard_log, r.files.output_log);
  EXPECT_EQ(parsed.epochs.size(), 3u);
  EXPECT_TRUE(parsed.actual.has_value());
  // JSON Lines: the lines of epochs 1 and 2, not written then, are written late with epoch 3's.
  auto lines = ewtest::split_lines(ewtest::read_file(r.jsonl));
  ASSERT_EQ(lines.size(), 4u);
  for (int e = 0; e < 3; ++e) EXPECT_EQ(nlohmann::json::parse(lines[e])["epoch"], e + 1);
  EXPECT_EQ(r.totals.epochs, 3);
  expect_no_temporary_file(r.dir.path());
}

TEST(FullDisk, FillsDuringTheRunAndStaysFull) {
  DiskRun r;
  r.run([&](int e) {
    if (e == 2) r.disk->room = 300;  // a few lines' worth, then full for good
  });
  // Nothing cut mid-line, however the 300 bytes fell; no log is empty without a warning naming it.
  const std::pair<const char*, std::string> logs[] = {{"Output log", r.files.output_log},
                                                      {"Standard log", r.files.standard_log},
                                                      {"Error log", r.files.error_log}};
  for (const auto& [what, path] : logs) {
    expect_whole_lines(path);
    EXPECT_LE(r.console_warnings(what), 1u) << what;
  }
  EXPECT_EQ(r.console_warnings("Standard log"), 1u) << r.console.str();
  EXPECT_EQ(r.console_warnings("Output log"), 1u) << r.console.str();
  EXPECT_FALSE(ewtest::read_file(r.files.standard_log).empty());  // what fitted before is kept
  expect_whole_lines(r.jsonl);
  for (const auto& l : ewtest::split_lines(ewtest::read_file(r.jsonl))) EXPECT_TRUE(nlohmann::json::accept(l)) << l;
  // The outputs written only at the end each say so once; none leaves a temporary file.
  EXPECT_EQ(r.console_warnings("JSON summary"), 1u) << r.console.str();
  EXPECT_EQ(r.console_warnings("CSV output"), 1u) << r.console.str();
  EXPECT_EQ(r.console_warnings("Prometheus output"), 1u) << r.console.str();
  EXPECT_EQ(r.console_warnings("JSON Lines output"), 1u) << r.console.str();
  EXPECT_FALSE(fs::exists(r.json));
  expect_no_temporary_file(r.dir.path());
  // What was measured stays in memory, whole, and the run's warnings name every file.
  EXPECT_EQ(r.epochs_in_memory, 3u);
  EXPECT_EQ(r.totals.epochs, 3);
  EXPECT_NEAR(r.totals.energy_kwh, 3 * 10.0 * 350.0 * 1.58 / 3.6e6, 1e-12);
  for (const char* what : {"Standard log", "Output log", "JSON Lines output", "Prometheus output"}) {
    std::size_t n = 0;
    for (const auto& w : r.seen->warnings) n += w.rfind(std::string(what) + " not written", 0) == 0;
    EXPECT_EQ(n, 1u) << what;
  }
}

TEST(FullDisk, FullForTheWholeRunEachFileSaysSoOnce) {
  DiskRun r;
  r.disk->room = 0;
  r.run([](int) {});
  // The logs exist and are empty, but never without a word: one warning each, and one for each
  // output; the figures are whole in memory and in the run's warnings.
  for (const char* what : kLogs) EXPECT_EQ(r.console_warnings(what), 1u) << what << "\n" << r.console.str();
  for (const char* what : {"JSON Lines output", "Prometheus output", "CSV output", "JSON summary"})
    EXPECT_EQ(r.console_warnings(what), 1u) << what << "\n" << r.console.str();
  for (const auto& p : {r.files.standard_log, r.files.output_log}) EXPECT_EQ(ewtest::read_file(p), "") << p;
  EXPECT_EQ(r.totals.epochs, 3);
  EXPECT_EQ(r.epochs_in_memory, 3u);
  EXPECT_GE(r.seen->warnings.size(), 5u);
  // The console still says everything the output log would have held.
  EXPECT_NE(r.console.str().find("Actual consumption for 3 epoch(s):"), std::string::npos);
  expect_no_temporary_file(r.dir.path());
}

// A short write then ENOSPC: the file is cut back to where the record began.
TEST(FullDisk, AShortWriteIsCutBackToTheLastWholeRecord) {
  ewtest::TempDir dir;
  const std::string path = (dir.path() / "x.jsonl").string();
  ewtest::write_file(path, "{\"type\":\"epoch\"}\n");
  FullDisk disk;
  disk.room = 7;
  detail::WriteResult r = detail::append_record(disk, path, detail::jsonl_format(), "{\"type\":\"run\",\"x\":1}\n");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("No space left on device"), std::string::npos) << r.error;
  EXPECT_EQ(ewtest::read_file(path), "{\"type\":\"epoch\"}\n");
}

// replace_file on a full disk: the old file stays as it was, and no PATH.tmp.PID is left.
TEST(FullDisk, AReplacedFileKeepsItsOldContentAndNoTemporaryFileStays) {
  ewtest::TempDir dir;
  const std::string path = (dir.path() / "x.prom").string();
  ewtest::write_file(path, "# HELP epochwatt_info old\n");
  FullDisk disk;
  disk.room = 10;
  detail::WriteResult r = detail::replace_file(disk, path, detail::prometheus_format(), "# HELP epochwatt_info new and longer\n");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(ewtest::read_file(path), "# HELP epochwatt_info old\n");
  EXPECT_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));
  expect_no_temporary_file(dir.path());
}

// The temporary file's name is predictable: a symbolic link planted there (a shared textfile
// folder) must not make replace_file truncate and overwrite the link's target.
TEST(ReplaceFile, APlantedLinkAtTheTemporaryNameIsNeverFollowed) {
  ewtest::TempDir dir;
  const std::string path = (dir.path() / "x.prom").string();
  const std::string victim = (dir.path() / "victim.txt").string();
  ewtest::write_file(victim, "not yours\n");
  fs::create_symlink(victim, path + ".tmp." + std::to_string(::getpid()));
  detail::WriteResult r =
      detail::replace_file(*detail::system_file_sink(), path, detail::prometheus_format(), "# HELP epochwatt_info x\n");
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(ewtest::read_file(victim), "not yours\n");
  EXPECT_EQ(ewtest::read_file(path), "# HELP epochwatt_info x\n");
  EXPECT_FALSE(fs::is_symlink(path));
}

// A producer that throws half-way (a name that is not UTF-8, no memory): the exception goes on, the
// old file stays, and neither the temporary file nor its descriptor is left behind.
TEST(ReplaceFile, AProducerThatThrowsLeavesTheOldFileAndNoTemporaryFile) {
  ewtest::TempDir dir;
  const std::string path = (dir.path() / "x.json").string();
  ewtest::write_file(path, "{\"old\": true}\n");
  auto open_fds = [] {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
    return n;
  };
  std::size_t before = open_fds();
  EXPECT_THROW(detail::replace_file(*detail::system_file_sink(), path, detail::RecordFormat{},
                                    [](const detail::ContentSink& put) {
                                      put("{\"new\": ");
                                      throw std::runtime_error("cannot encode");
                                    }),
               std::runtime_error);
  EXPECT_EQ(ewtest::read_file(path), "{\"old\": true}\n");
  expect_no_temporary_file(dir.path());
  EXPECT_EQ(open_fds(), before);
}

}  // namespace
