#include "meters/estimate/tdp_table.hpp"

#include <cctype>
#include <charconv>
#include <algorithm>
#include <utility>

namespace epochwatt::data {
extern const std::string_view kCpuTdpCsv;
}

namespace epochwatt::meters {
namespace {

double to_double(std::string_view s, bool* ok) {
  double v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  *ok = res.ec == std::errc{} && res.ptr == s.data() + s.size();
  return v;
}

// Split one CSV line into fields, honouring double quotes.
std::vector<std::string> split_csv(std::string_view line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

std::vector<TdpEntry> parse_table() {
  std::vector<TdpEntry> rows;
  std::string_view csv = data::kCpuTdpCsv;
  bool header = true;
  while (!csv.empty()) {
    auto nl = csv.find('\n');
    std::string_view line = csv.substr(0, nl);
    csv = nl == std::string_view::npos ? std::string_view{} : csv.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (header) {
      header = false;
      continue;
    }
    auto f = split_csv(line);
    if (f.size() != 2) continue;
    if (auto tdp = parse_tdp_cell(f[1])) rows.push_back({f[0], *tdp, normalise_cpu_model(f[0])});
  }
  return rows;
}

}  // namespace

const std::vector<TdpEntry>& tdp_table() {
  static const std::vector<TdpEntry> table = parse_table();
  return table;
}

std::optional<double> parse_tdp_cell(std::string_view cell) {
  bool ok = false;
  double v = to_double(cell, &ok);
  if (ok) return v;
  // "27.29.5": a range 27.2-29.5 W (data/README.md): low = a.(first digit of b), high = b.c.
  auto d1 = cell.find('.');
  auto d2 = d1 == std::string_view::npos ? d1 : cell.find('.', d1 + 1);
  if (d2 == std::string_view::npos || d2 == d1 + 1 || cell.find('.', d2 + 1) != std::string_view::npos) return std::nullopt;
  std::string a(cell.substr(0, d1)), b(cell.substr(d1 + 1, d2 - d1 - 1)), c(cell.substr(d2 + 1));
  bool ok1 = false, ok2 = false;
  double lo = to_double(a + "." + b.substr(0, 1), &ok1), hi = to_double(b + "." + c, &ok2);
  if (!ok1 || !ok2 || hi < lo) return std::nullopt;
  return (lo + hi) / 2.0;
}

std::string normalise_cpu_model(std::string_view model) {
  // Plain string operations rather than std::regex: the whole table is normalised at start-up.
  std::string s;
  for (char c : model) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view mark : {"(r)", "(tm)"}) {  // each mark becomes one space
    // Copied into a new string rather than s.replace(pos, n, " "): that trips g++ 12's -Wrestrict
    // at -O3 (GCC bug 105651). Same result: a space never starts or continues a mark.
    std::string kept;
    std::size_t from = 0;
    for (auto pos = s.find(mark); pos != std::string::npos; pos = s.find(mark, from)) {
      kept.append(s, from, pos - from);
      kept += ' ';
      from = pos + mark.size();
    }
    kept.append(s, from);
    s = std::move(kept);
  }
  if (auto at = s.find('@'); at != std::string::npos) s.erase(at);  // "@ 2.50GHz"
  if (auto radeon = s.find(" with radeon"); radeon != std::string::npos) s.erase(radeon);
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    std::string_view word(s.data() + i, j - i);
    bool n_core = word.size() > 5 && word.substr(word.size() - 5) == "-core" &&
                  std::all_of(word.begin(), word.end() - 5, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (!word.empty() && word != "cpu" && word != "processor" && !n_core) {
      if (!out.empty()) out += ' ';
      out += word;
    }
    i = j;
  }
  return out;
}

std::optional<TdpMatch> match_cpu_tdp(std::string_view model_name) {
  std::string want = normalise_cpu_model(model_name);
  if (want.empty()) return std::nullopt;
  const TdpEntry* best = nullptr;
  std::size_t best_len = 0;
  for (const auto& e : tdp_table()) {
    const std::string& name = e.key;
    if (name == want) return TdpMatch{e, "exact"};
    if (name.size() <= best_len || name.size() < 4) continue;
    for (auto pos = want.find(name); pos != std::string::npos; pos = want.find(name, pos + 1)) {
      bool starts_word = pos == 0 || want[pos - 1] == ' ';
      bool ends_word = pos + name.size() == want.size() || want[pos + name.size()] == ' ';
      if (starts_word && ends_word) {
        best = &e;
        best_len = name.size();
        break;
      }
    }
  }
  if (best) return TdpMatch{*best, "contained"};
  return std::nullopt;
}

}  // namespace epochwatt::meters
