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

// Calls f(line) on each data line of the embedded CSV in order (the header, empty lines and a
// trailing '\r' left out) until f returns false.
template <class F>
void for_each_data_line(F f) {
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
    if (!f(line)) return;
  }
}

std::vector<TdpEntry> parse_table() {
  std::vector<TdpEntry> rows;
  for_each_data_line([&](std::string_view line) {
    auto f = split_csv(line);
    if (f.size() == 2)
      if (auto tdp = parse_tdp_cell(f[1])) rows.push_back({f[0], *tdp, normalise_cpu_model(f[0])});
    return true;
  });
  return rows;
}

}  // namespace

namespace {

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }  // std::isspace, "C" locale
bool c_digit(char c) { return c >= '0' && c <= '9'; }

// normalise_cpu_model into `out`, with `s` as scratch: both reused across calls, so matching a
// model name against the whole table allocates nothing per row (start-up cost, issue 13).
void normalise_into(std::string_view model, std::string& s, std::string& out) {
  s.clear();
  out.clear();
  for (std::size_t i = 0; i < model.size(); ++i) {
    char c = ascii_lower(model[i]);
    if (c == '@') break;  // "@ 2.50GHz"
    if (c == '(') {       // "(r)" and "(tm)" each become one space
      auto rest = model.substr(i + 1);
      auto is = [&](std::string_view mark) {
        if (rest.size() < mark.size()) return false;
        for (std::size_t k = 0; k < mark.size(); ++k)
          if (ascii_lower(rest[k]) != mark[k]) return false;
        return true;
      };
      if (is("r)")) { s += ' '; i += 2; continue; }
      if (is("tm)")) { s += ' '; i += 3; continue; }
    }
    s += c;
  }
  if (auto radeon = s.find(" with radeon"); radeon != std::string::npos) s.resize(radeon);
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && c_space(s[i])) ++i;
    std::size_t j = i;
    while (j < s.size() && !c_space(s[j])) ++j;
    std::string_view word(s.data() + i, j - i);
    bool n_core = word.size() > 5 && word.substr(word.size() - 5) == "-core" &&
                  std::all_of(word.begin(), word.end() - 5, c_digit);
    if (!word.empty() && word != "cpu" && word != "processor" && !n_core) {
      if (!out.empty()) out += ' ';
      out += word;
    }
    i = j;
  }
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
  std::string scratch, out;
  normalise_into(model, scratch, out);
  return out;
}

std::optional<TdpMatch> match_cpu_tdp(std::string_view model_name) {
  std::string want = normalise_cpu_model(model_name);
  if (want.empty()) return std::nullopt;
  // Straight over the embedded CSV rather than tdp_table(): start-up matches one model name, and
  // building the whole normalised table first was three quarters of `epochwatt -- true`'s
  // instructions (callgrind, issue 13). Same rows, same order, same choice as over the table.
  std::string scratch, key;
  std::optional<TdpMatch> best;
  std::size_t best_len = 0;
  for_each_data_line([&](std::string_view line) {
    // The model field, unquoted only when it has quotes (rare): the plain case copies nothing.
    std::string_view model = line.substr(0, line.find(','));
    std::string unquoted;
    if (line.find('"') != std::string_view::npos) {
      auto f = split_csv(line);
      unquoted = f.empty() ? std::string() : f[0];
      model = unquoted;
    }
    normalise_into(model, scratch, key);
    bool exact = key == want;
    bool longer = !exact && key.size() > best_len && key.size() >= 4;
    bool contained = false;
    if (longer)
      for (auto pos = want.find(key); pos != std::string::npos; pos = want.find(key, pos + 1)) {
        bool starts_word = pos == 0 || want[pos - 1] == ' ';
        bool ends_word = pos + key.size() == want.size() || want[pos + key.size()] == ' ';
        if (starts_word && ends_word) {
          contained = true;
          break;
        }
      }
    if (!exact && !contained) return true;
    // Only rows tdp_table() holds: two fields and a readable TDP.
    auto f = split_csv(line);
    if (f.size() != 2) return true;
    auto tdp = parse_tdp_cell(f[1]);
    if (!tdp) return true;
    TdpMatch m{TdpEntry{f[0], *tdp, key}, exact ? "exact" : "contained"};
    best = std::move(m);
    best_len = key.size();
    return !exact;  // an exact match ends the search
  });
  return best;
}

}  // namespace epochwatt::meters
