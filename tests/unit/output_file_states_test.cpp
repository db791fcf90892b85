// Appended and replaced outputs found in an unexpected state (issue 12 item 2, shared case05):
// for each output (CSV, JSON Lines, Prometheus textfile, JSON summary) and each state of its path
// (last line without its line break, a cut last record, a foreign file, a directory, a FIFO, a
// device), a whole tracker run writes into it, and then: every earlier byte is still there, the
// new records read back whole, at most one warning names the path, and the run's figures are whole.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "epochwatt/epochwatt.hpp"
#include "report/codecarbon_csv.hpp"
#include "report/file_sink.hpp"
#include "report/jsonl_output.hpp"
#include "report/prometheus_output.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;
namespace fs = std::filesystem;

enum class Out { csv, jsonl, prometheus, json_summary };
enum class State { missing_newline, cut_record, foreign, directory, fifo, device };

std::string name(Out o) {
  switch (o) {
    case Out::csv: return "csv";
    case Out::jsonl: return "jsonl";
    case Out::prometheus: return "prometheus";
    case Out::json_summary: return "json_summary";
  }
  return "";
}
std::string name(State s) {
  switch (s) {
    case State::missing_newline: return "missing_newline";
    case State::cut_record: return "cut_record";
    case State::foreign: return "foreign";
    case State::directory: return "directory";
    case State::fifo: return "fifo";
    case State::device: return "device";
  }
  return "";
}
std::string file_name(Out o) {
  switch (o) {
    case Out::csv: return "emissions.csv";
    case Out::jsonl: return "run.jsonl";
    case Out::prometheus: return "epochwatt.prom";
    case Out::json_summary: return "summary.json";
  }
  return "";
}
std::string sibling_name(Out o) {
  switch (o) {
    case Out::csv: return "emissions_1.csv";
    case Out::jsonl: return "run_1.jsonl";
    case Out::prometheus: return "epochwatt_1.prom";
    case Out::json_summary: return "summary_1.json";
  }
  return "";
}

struct RunResult {
  std::string console;
  Consumption totals;
};

// A /proc whose CPU model holds a comma, so the CSV quotes that field (a cut inside it leaves an
// open quote).
std::string fake_proc(const fs::path& dir) {
  fs::create_directories(dir / "proc");
  ewtest::write_file((dir / "proc" / "cpuinfo").string(), "model name\t: Test CPU, 8 cores @ 2.00GHz\n");
  ewtest::write_file((dir / "proc" / "meminfo").string(), "MemTotal:       16777216 kB\n");
  return (dir / "proc").string();
}

// One tracker run of two 10 s epochs on the §14 meters, writing one output at `path`.
RunResult run_once(Out out, const std::string& path, const std::string& proc) {
  ewtest::ScopedEnv tz("TZ", "UTC");
  std::ostringstream console;
  auto clock = std::make_shared<ManualClock>();
  Options o = ewtest::deterministic_options(clock, &console, 2);
  o.meters = ewtest::section14_meters();
  o.proc_root = proc;
  switch (out) {
    case Out::csv: o.outputs = {{OutputSpec::Format::csv, path}}; break;
    case Out::jsonl: o.outputs = {{OutputSpec::Format::jsonl, path}}; break;
    case Out::prometheus: o.outputs = {{OutputSpec::Format::prometheus, path}}; break;
    case Out::json_summary: o.json_path = path; break;
  }
  RunResult r;
  {
    Tracker t(o);
    ewtest::run_epoch(t, *clock, 10.0);
    ewtest::run_epoch(t, *clock, 10.0);
    t.stop();
    r.totals = t.totals();
  }
  r.console = console.str();
  return r;
}

// CSV records (RFC 4180: a quoted field may hold commas and line breaks), field counts per record.
std::vector<std::size_t> csv_record_sizes(const std::string& text) {
  std::vector<std::size_t> sizes;
  std::size_t fields = 1;
  bool quoted = false, any = false;
  for (char c : text) {
    any = true;
    if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) ++fields;
    else if (c == '\n' && !quoted) sizes.push_back(fields), fields = 1, any = false;
  }
  if (any) sizes.push_back(fields);
  return sizes;
}

// Is `text` a whole file of `out` as epochwatt writes it, holding `runs` runs?
void expect_whole_file(Out out, const std::string& text, int runs) {
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  switch (out) {
    case Out::csv: {
      auto sizes = csv_record_sizes(text);
      ASSERT_EQ(sizes.size(), static_cast<std::size_t>(runs + 1)) << text;
      for (auto n : sizes) EXPECT_EQ(n, detail::kCsvColumnCount) << text;
      break;
    }
    case Out::jsonl: {
      auto lines = ewtest::split_lines(text);
      EXPECT_EQ(lines.size(), static_cast<std::size_t>(3 * runs)) << text;
      for (const auto& l : lines) EXPECT_TRUE(nlohmann::json::accept(l)) << l;
      break;
    }
    case Out::prometheus:
      EXPECT_EQ(text.rfind("# HELP epochwatt_info", 0), 0u);
      EXPECT_NE(text.find("epochwatt_run_finished{"), std::string::npos);
      break;
    case Out::json_summary: EXPECT_TRUE(nlohmann::json::accept(text)); break;
  }
}

std::size_t warnings_naming(const std::string& console, const std::string& path) {
  std::size_t n = 0;
  for (const auto& l : ewtest::split_lines(console))
    if (l.find("WARNING") != std::string::npos && l.find(path) != std::string::npos) ++n;
  return n;
}

void expect_no_temporary_file(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
}

class OutputFileStates : public ::testing::TestWithParam<std::tuple<Out, State>> {};

TEST_P(OutputFileStates, EarlierRecordsStayAndTheNewOnesReadBackWhole) {
  auto [out, state] = GetParam();
  ewtest::TempDir dir;
  std::string proc = fake_proc(dir.path());
  std::string path = (dir.path() / file_name(out)).string();
  const std::string sibling = (dir.path() / sibling_name(out)).string();

  switch (state) {
    case State::missing_newline:
    case State::cut_record: {
      run_once(out, path, proc);  // an earlier run's file, then damaged as a crash or an editor leaves it
      std::string before = ewtest::read_file(path);
      ASSERT_EQ(before.back(), '\n');
      before.pop_back();
      if (state == State::cut_record) {
        // Cut inside the last record: the CSV's inside the quoted CPU model, the others halfway.
        std::size_t last = before.rfind('\n') + 1;
        std::size_t cut = out == Out::csv ? before.find("Test CPU, 8", last) + 10 : last + (before.size() - last) / 2;
        before.resize(cut);
      }
      ewtest::write_file(path, before);
      RunResult r = run_once(out, path, proc);
      std::string after = ewtest::read_file(path);
      EXPECT_EQ(r.totals.epochs, 2);
      if (out == Out::prometheus || out == Out::json_summary) {  // replaced whole: nothing earlier to keep
        expect_whole_file(out, after, 1);
        EXPECT_EQ(warnings_naming(r.console, path), 0u) << r.console;
        break;
      }
      ASSERT_EQ(after.compare(0, before.size(), before), 0) << "an earlier byte changed";
      if (state == State::missing_newline) {
        expect_whole_file(out, after, 2);
        EXPECT_EQ(warnings_naming(r.console, path), 0u) << r.console;
      } else {
        // The cut record is ended where it was cut (a CSV's open quote closed) and stays one
        // damaged record on its own line; everything after it is whole. One warning says so.
        std::string rest = after.substr(after.find('\n', before.size()) + 1);
        expect_whole_file(out, out == Out::csv ? ewtest::split_lines(after)[0] + "\n" + rest : rest, 1);
        EXPECT_EQ(warnings_naming(r.console, path), 1u) << r.console;
        EXPECT_NE(r.console.find("ended inside a record"), std::string::npos) << r.console;
      }
      break;
    }
    case State::foreign: {
      const std::string foreign = out == Out::csv   ? "timestamp,project_name,run_id,duration\n2024-01-01,x,y,1.0\n"
                                  : out == Out::prometheus ? "# HELP node_thing Another exporter's.\nnode_thing 1\n"
                                                           : "not epochwatt's: a training log\n";
      ewtest::write_file(path, foreign);
      RunResult r = run_once(out, path, proc);
      EXPECT_EQ(r.totals.epochs, 2);
      if (out == Out::json_summary) {  // the summary is ours to replace wherever it is asked for
        expect_whole_file(out, ewtest::read_file(path), 1);
        break;
      }
      EXPECT_EQ(ewtest::read_file(path), foreign) << "a foreign file was touched";
      expect_whole_file(out, ewtest::read_file(sibling), 1);
      EXPECT_EQ(warnings_naming(r.console, sibling), 1u) << r.console;
      // The next run finds the sibling ours and appends (or rewrites) there, without a new one.
      run_once(out, path, proc);
      EXPECT_EQ(ewtest::read_file(path), foreign);
      expect_whole_file(out, ewtest::read_file(sibling), out == Out::prometheus ? 1 : 2);
      EXPECT_FALSE(fs::exists(dir.path() / (fs::path(path).stem().string() + "_2" + fs::path(path).extension().string())));
      break;
    }
    case State::directory:
    case State::fifo:
    case State::device: {
      std::string kind;
      if (state == State::directory) {
        fs::create_directories(path);
        ewtest::write_file(path + "/keep", "x");
        kind = "is a directory";
      } else if (state == State::fifo) {
        ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);  // no reader: opening it for writing would block
        kind = "is a FIFO";
      } else {
        path = "/dev/null";
        kind = "is a character device";
      }
      RunResult r = run_once(out, path, proc);  // returns: nothing blocked
      EXPECT_EQ(r.totals.epochs, 2);
      EXPECT_EQ(ewtest::count_occurrences(r.console, kind), 1u) << r.console;
      EXPECT_EQ(warnings_naming(r.console, path), 1u) << r.console;
      struct ::stat st {};
      ASSERT_EQ(::stat(path.c_str(), &st), 0);
      if (state == State::directory) {
        EXPECT_EQ(ewtest::read_file(path + "/keep"), "x");
      } else if (state == State::fifo) {
        EXPECT_TRUE(S_ISFIFO(st.st_mode));
      } else {
        EXPECT_TRUE(S_ISCHR(st.st_mode));
      }
      EXPECT_FALSE(fs::exists(sibling));
      break;
    }
  }
  expect_no_temporary_file(dir.path());
}

INSTANTIATE_TEST_SUITE_P(
    AllOutputsAllStates, OutputFileStates,
    ::testing::Combine(::testing::Values(Out::csv, Out::jsonl, Out::prometheus, Out::json_summary),
                       ::testing::Values(State::missing_newline, State::cut_record, State::foreign, State::directory,
                                         State::fifo, State::device)),
    [](const auto& info) { return name(std::get<0>(info.param)) + "_" + name(std::get<1>(info.param)); });

// case05 itself: CodeCarbon readers see the header and two rows of 44 fields (CodeCarbon's 38 and
// the job's 6).
TEST(OutputFileStatesCsv, ARowWithoutItsLineBreakIsNotGluedToTheNext) {
  ewtest::TempDir dir;
  const std::string csv = (dir.path() / "em.csv").string();
  std::string row = "2025-01-01T00:00:00.000Z,epochwatt,a" + std::string(detail::kCsvColumnCount - 3, ',') + "\n";
  detail::WriteResult first = detail::append_record(*detail::system_file_sink(), csv, detail::codecarbon_format(), row);
  ASSERT_TRUE(first.ok()) << first.error;
  std::string text = ewtest::read_file(csv);
  text.pop_back();
  ewtest::write_file(csv, text);
  detail::WriteResult second = detail::append_record(*detail::system_file_sink(), csv, detail::codecarbon_format(), row);
  ASSERT_TRUE(second.ok()) << second.error;
  EXPECT_TRUE(second.note.empty()) << second.note;  // a whole row, only its line break missing
  auto sizes = csv_record_sizes(ewtest::read_file(csv));
  EXPECT_EQ(sizes, (std::vector<std::size_t>{detail::kCsvColumnCount, detail::kCsvColumnCount, detail::kCsvColumnCount}));
}

// A CSV record cut inside a quoted field: the quote is closed before the line break, or a reader
// would swallow the next row into that field.
TEST(OutputFileStatesCsv, ACutRecordInsideAQuotedFieldIsClosed) {
  detail::RecordFormat f = detail::codecarbon_format();
  EXPECT_EQ(f.end_cut("a,b,\"Test CPU, 8"), "\"\n");
  EXPECT_EQ(f.end_cut("a,b,\"x\",c"), "\n");
  EXPECT_FALSE(f.whole("a,b,\"x\",c"));
}

TEST(OutputFileStatesJsonl, OursIsRecognisedByItsFirstLineOnly) {
  detail::RecordFormat f = detail::jsonl_format();
  EXPECT_TRUE(f.ours(R"({"type":"epoch","context":{}})"));
  EXPECT_TRUE(f.ours(R"({"type":"ru)"));  // a first line cut short is still ours
  EXPECT_FALSE(f.ours("epoch 1 loss 0.3"));
  EXPECT_FALSE(f.ours(R"({"loss":0.3})"));
  EXPECT_TRUE(f.whole(R"({"type":"run"})"));
  EXPECT_FALSE(f.whole(R"({"type":"run","warn)"));
}

TEST(OutputFileStatesPrometheus, AnotherExportersFileIsForeign) {
  detail::RecordFormat f = detail::prometheus_format();
  EXPECT_TRUE(f.ours("# HELP epochwatt_info Always 1; the labels name the tool and version of the run."));
  EXPECT_FALSE(f.ours("# HELP node_textfile_thing x"));
}

}  // namespace
