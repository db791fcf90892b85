// How well a run's total energy is predicted from its first epochs, on recorded epoch series
// (bench/prediction/series/*.csv: real runs and synthetic patterns), for both rules:
// carbontracker's (planned x the mean epoch) and epochwatt's steady-epochs rule (docs/prediction.md).
//
//   bench_prediction [--summary] [SERIES_DIR]
//   bench_prediction SERIES_DIR NAME   every k of one series (NAME: the file's stem), both rules
//
// --summary leaves the per-series table out (for hundreds of generated series).
//
// For each series of N epochs and each k in {1, 2, 5} with k < N, predict_run() sees the first k
// epochs (with the series' set-up, its first_epoch_includes_setup, PUE 1, N planned) and its
// predicted IT energy is compared with the actual: the set-up's joules plus every epoch's. The
// steady rule's 90 % range is checked for every k in 1..N-1 where it is known, and its width
// (high - low) / actual averaged over the same (series, k). Prints a Markdown table and summary
// lines; the output depends on the files alone.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "epochwatt/run.hpp"

using namespace epochwatt;

#ifndef EPOCHWATT_PREDICTION_SERIES_DIR
#define EPOCHWATT_PREDICTION_SERIES_DIR "bench/prediction/series"
#endif

namespace {

struct Series {
  std::string file;    // stem, e.g. "digits-wrapped-start-1"
  std::string family;  // the stem without its run or seed number: "digits-wrapped-start"
  std::string name;
  bool synthetic = false;  // file name starts with "synthetic-"
  bool first_epoch_includes_setup = false;
  std::optional<Setup> setup;
  std::vector<EpochSummary> epochs;
  double actual_j = 0.0;
};

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

Series read_series(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  Series s;
  s.file = path.stem().string();
  s.synthetic = s.file.rfind("synthetic-", 0) == 0;
  s.family = s.file;
  auto dash = s.family.rfind('-');
  if (dash != std::string::npos) {
    std::string tail = s.family.substr(dash + 1);
    if (!tail.empty() && tail[0] == 's') tail.erase(0, 1);
    if (!tail.empty() && std::all_of(tail.begin(), tail.end(), [](unsigned char c) { return std::isdigit(c); }))
      s.family.erase(dash);
  }
  std::string line;
  int line_no = 0;
  bool header_seen = false;
  auto fail = [&](const std::string& why) {
    throw std::runtime_error(path.string() + ":" + std::to_string(line_no) + ": " + why);
  };
  while (std::getline(in, line)) {
    ++line_no;
    line = trim(line);
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::string body = trim(line.substr(1));
      auto colon = body.find(':');
      if (colon == std::string::npos) continue;
      std::string key = trim(body.substr(0, colon)), value = trim(body.substr(colon + 1));
      if (key == "name") s.name = value;
      if (key == "first_epoch_includes_setup") {
        if (value != "0" && value != "1") fail("first_epoch_includes_setup must be 0 or 1");
        s.first_epoch_includes_setup = value == "1";
      }
      continue;
    }
    if (!header_seen) {
      if (line != "kind,index,seconds,joules") fail("expected the header kind,index,seconds,joules");
      header_seen = true;
      continue;
    }
    std::stringstream ss(line);
    std::string kind, index, seconds, joules;
    if (!std::getline(ss, kind, ',') || !std::getline(ss, index, ',') || !std::getline(ss, seconds, ',') ||
        !std::getline(ss, joules))
      fail("expected kind,index,seconds,joules");
    double sec = std::stod(seconds), j = std::stod(joules);
    if (kind == "setup") {
      if (s.setup || !s.epochs.empty()) fail("one set-up line, before the epochs");
      s.setup = Setup{sec, j, {}};
    } else if (kind == "epoch") {
      int i = std::stoi(index);
      if (i != static_cast<int>(s.epochs.size()) + 1) fail("epochs must be numbered 1, 2, ... in order");
      EpochSummary e;
      e.index = i, e.duration_s = sec, e.joules = j;
      s.epochs.push_back(e);
    } else {
      fail("kind must be setup or epoch");
    }
  }
  if (s.epochs.size() < 2) fail("a series needs two epochs or more");
  s.actual_j = s.setup ? s.setup->joules : 0.0;
  for (const auto& e : s.epochs) s.actual_j += e.joules;
  return s;
}

struct Outcome {
  double predicted_j = 0.0;
  bool range_known = false;
  double low_j = 0.0, high_j = 0.0;
};

Outcome predict_after(const Series& s, int k, PredictionRule rule) {
  std::vector<EpochSummary> first(s.epochs.begin(), s.epochs.begin() + k);
  PredictionInput in;
  in.planned = static_cast<int>(s.epochs.size());
  in.pue = 1.0;
  in.rule = rule;
  in.setup = s.setup;
  in.first_epoch_includes_setup = s.first_epoch_includes_setup;
  Prediction p = predict_run(first, in);
  Outcome o;
  o.predicted_j = p.footprint.energy_kwh * kJoulesPerKwh;
  o.range_known = p.detail.range_known;
  o.low_j = p.detail.energy_kwh.low * kJoulesPerKwh;
  o.high_j = p.detail.energy_kwh.high * kJoulesPerKwh;
  return o;
}

double error_pct(const Series& s, double predicted_j) { return (predicted_j - s.actual_j) / s.actual_j * 100.0; }

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string pct(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f %%", x);
  return buf;
}

constexpr int kAfter[] = {1, 2, 5};
constexpr PredictionRule kRules[] = {PredictionRule::carbontracker, PredictionRule::steady_epochs};

// Coverage of one rule's range over (series, k), k = 1..N-1 where the range is known.
// widths: (high - low) / actual of each (series, k), for the range's mean and median width.
struct Coverage {
  int known = 0, covered = 0;
  std::vector<double> widths;
  void add(bool c, double w) { ++known, covered += c, widths.push_back(w); }
  void add(const Coverage& o) {
    known += o.known, covered += o.covered;
    widths.insert(widths.end(), o.widths.begin(), o.widths.end());
  }
  std::string text() const {
    char buf[64];
    if (known == 0) return "–";
    std::snprintf(buf, sizeof buf, "%d/%d (%.0f %%)", covered, known, 100.0 * covered / known);
    return buf;
  }
  std::string text_with_width() const {
    if (known == 0) return "–";
    double sum = 0;
    for (double w : widths) sum += w;
    char buf[64];
    std::snprintf(buf, sizeof buf, ", width mean %.1f %% median %.1f %%", 100.0 * sum / known, 100.0 * median(widths));
    return text() + buf;
  }
};

}  // namespace

int main(int argc, char** argv) {
  bool summary = argc > 1 && std::string(argv[1]) == "--summary";
  if (summary) --argc, ++argv;
  std::filesystem::path dir = argc > 1 ? argv[1] : EPOCHWATT_PREDICTION_SERIES_DIR;
  std::string only = argc > 2 ? argv[2] : "";
  std::vector<std::filesystem::path> files;
  try {
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      if (entry.is_regular_file() && entry.path().extension() == ".csv") files.push_back(entry.path());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_prediction: %s\n", e.what());
    return 1;
  }
  // Real runs first, then the synthetic ones; by name within each.
  std::vector<Series> all;
  try {
    for (const auto& f : files) all.push_back(read_series(f));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_prediction: %s\n", e.what());
    return 1;
  }
  std::sort(all.begin(), all.end(),
            [](const Series& a, const Series& b) { return std::tie(a.synthetic, a.file) < std::tie(b.synthetic, b.file); });
  if (all.empty()) {
    std::fprintf(stderr, "bench_prediction: no *.csv series in %s\n", dir.string().c_str());
    return 1;
  }
  if (!only.empty()) {
    auto it = std::find_if(all.begin(), all.end(), [&](const Series& s) { return s.file == only; });
    if (it == all.end()) {
      std::fprintf(stderr, "bench_prediction: no series %s in %s\n", only.c_str(), dir.string().c_str());
      return 1;
    }
    std::printf("%s: %s; actual %.1f J\n", it->file.c_str(), it->name.c_str(), it->actual_j);
    std::printf("k  rule            predicted J   error     range low J     high J  covers\n");
    for (int k = 1; k < static_cast<int>(it->epochs.size()); ++k)
      for (auto rule : kRules) {
        Outcome o = predict_after(*it, k, rule);
        bool c = o.low_j <= it->actual_j && it->actual_j <= o.high_j;
        std::printf("%-3d%-14s %12.1f %8s", k, std::string(to_string(rule)).c_str(), o.predicted_j,
                    pct(error_pct(*it, o.predicted_j)).c_str());
        if (o.range_known)
          std::printf(" %12.1f %12.1f  %s\n", o.low_j, o.high_j, c ? "yes" : "no");
        else
          std::printf("  (range unknown)\n");
      }
    return 0;
  }

  std::printf("Predicted total energy against the actual (set-up + every epoch), signed error after k epochs;\n");
  std::printf("range: the steady rule's 90 %% range holds the actual, after 2 and 5 epochs, and over every k = 1..N-1 where known.\n");
  // The directory as given, relative to the working directory when inside it (stable output).
  std::string shown = dir.string();
  std::error_code ec;
  auto rel = std::filesystem::relative(dir, std::filesystem::current_path(), ec);
  if (!ec && !rel.empty() && *rel.begin() != "..") shown = rel.string();
  std::printf("%zu series from %s; PUE 1, planned = N.\n\n", all.size(), shown.c_str());
  if (!summary) {
    std::printf("| series | N | set-up | carbontracker k=1 | k=2 | k=5 | steady-epochs k=1 | k=2 | k=5 | range k=2 / k=5 | range, all k |\n");
    std::printf("|---|---:|---|---:|---:|---:|---:|---:|---:|:---:|---:|\n");
  }

  // errors[rule][after][synthetic]
  std::vector<double> errors[2][3][2];
  Coverage cover[2][2];       // [rule][synthetic], all k
  Coverage cover_at[2][2];    // steady rule, [k=2 / k=5][synthetic]
  std::vector<std::pair<std::string, Coverage>> by_family;  // steady rule, all k, in table order
  for (const auto& s : all) {
    const int n = static_cast<int>(s.epochs.size());
    std::string cells[2][3];
    for (int r = 0; r < 2; ++r)
      for (int a = 0; a < 3; ++a) {
        if (kAfter[a] >= n) {
          cells[r][a] = "–";
          continue;
        }
        double e = error_pct(s, predict_after(s, kAfter[a], kRules[r]).predicted_j);
        cells[r][a] = pct(e);
        errors[r][a][s.synthetic].push_back(std::abs(e));
      }
    Coverage mine[2];
    std::string at[2];
    for (int r = 0; r < 2; ++r)
      for (int k = 1; k < n; ++k) {
        Outcome o = predict_after(s, k, kRules[r]);
        if (!o.range_known) continue;
        bool c = o.low_j <= s.actual_j && s.actual_j <= o.high_j;
        double w = (o.high_j - o.low_j) / s.actual_j;
        mine[r].add(c, w);
        cover[r][s.synthetic].add(c, w);
        if (r == 1 && (k == 2 || k == 5)) {
          at[k == 5] = c ? "yes" : "**no**";
          cover_at[k == 5][s.synthetic].add(c, w);
        }
      }
    for (auto& x : at)
      if (x.empty()) x = "–";
    if (by_family.empty() || by_family.back().first != s.family) by_family.push_back({s.family, {}});
    by_family.back().second.add(mine[1]);
    if (summary) continue;
    const char* setup = s.first_epoch_includes_setup ? "in epoch 1" : (s.setup ? "apart" : "none");
    std::printf("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s |\n", s.file.c_str(), n, setup,
                cells[0][0].c_str(), cells[0][1].c_str(), cells[0][2].c_str(), cells[1][0].c_str(), cells[1][1].c_str(),
                cells[1][2].c_str(), at[0].c_str(), at[1].c_str(), mine[1].text().c_str());
  }

  std::printf("\nMedian |error| of the predicted total energy after k epochs (series with more than k epochs):\n\n");
  std::printf("| rule | series | k=1 | k=2 | k=5 |\n|---|---|---:|---:|---:|\n");
  for (int r = 0; r < 2; ++r)
    for (int syn = 0; syn < 2; ++syn) {
      std::printf("| %s | %s (%zu) |", std::string(to_string(kRules[r])).c_str(), syn ? "synthetic" : "real",
                  errors[r][0][syn].size());
      for (int a = 0; a < 3; ++a) std::printf(" %.1f %% |", median(errors[r][a][syn]));
      std::printf("\n");
    }

  std::printf("\nRange (90 %%) holding the actual, (series, k) pairs with a known range; its width: (high - low) / actual:\n\n");
  for (int r = 1; r >= 0; --r) {
    Coverage both;
    both.add(cover[r][0]);
    both.add(cover[r][1]);
    std::printf("- %s, every k = 1..N-1: real %s; synthetic %s; all %s\n", std::string(to_string(kRules[r])).c_str(),
                cover[r][0].text_with_width().c_str(), cover[r][1].text_with_width().c_str(),
                both.text_with_width().c_str());
  }
  for (int a = 0; a < 2; ++a)
    std::printf("- steady-epochs, series covered after %d epochs: real %s, synthetic %s\n", a ? 5 : 2,
                cover_at[a][0].text().c_str(), cover_at[a][1].text().c_str());
  std::printf("- steady-epochs, every k, by kind of series:");
  for (std::size_t i = 0; i < by_family.size(); ++i)
    std::printf("%s %s %s", i ? ";" : "", by_family[i].first.c_str(), by_family[i].second.text_with_width().c_str());
  std::printf("\n");
  return 0;
}
