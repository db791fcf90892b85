#include "report/json_summary.hpp"

#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include "report/json_stream.hpp"
#include "report/run_json.hpp"

#include "core/format.hpp"
#include "epochwatt/version.hpp"

namespace epochwatt::detail {

namespace {

// Where the epochs go in the pretty-printed document: a value no run can hold at that place (a
// control character, escaped by dump(), at the top level's indentation after a line break).
constexpr const char* kEpochsMark = "\x01epochwatt-epochs\x01";

void put_integer(std::string& out, long long v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Pieces of about this size go to the file: the epochs are never held whole as text.
constexpr std::size_t kPiece = 1 << 16;

// The epochs object (to_json(EpochTable)'s layout), each array on one line, indented as the
// value of a top-level key; written straight from the table.
void put_epochs(const EpochTable& t, const ContentSink& put) {
  std::string out;
  auto flush_if_full = [&] {
    if (out.size() >= kPiece) put(out), out.clear();
  };
  auto array = [&](const char* key, std::size_t n, auto&& cell, const char* indent, bool last) {
    out += indent;
    out += '"';
    out += key;
    out += "\": [";
    for (std::size_t i = 0; i < n; ++i) {
      if (i) out += ", ";
      cell(i);
      flush_if_full();
    }
    out += last ? "]\n" : "],\n";
  };
  out += "{\n    \"layout\": \"columns\",\n    \"count\": ";
  put_integer(out, static_cast<long long>(t.size()));
  out += ",\n";
  array("epoch", t.size(), [&](std::size_t i) { put_integer(out, t.index(i)); }, "    ", false);
  array("duration_s", t.size(), [&](std::size_t i) { append_json_number(out, t.duration_s(i)); }, "    ", false);
  array("joules", t.size(), [&](std::size_t i) { append_json_number(out, t.joules(i)); }, "    ", false);
  const auto& rows = t.interrupted_rows();
  array("interrupted_rows", rows.size(), [&](std::size_t i) { put_integer(out, static_cast<long long>(rows[i])); },
        "    ", false);
  out += "    \"devices\": [";
  const auto& devices = t.devices();
  for (std::size_t c = 0; c < devices.size(); ++c) {
    const EpochTable::Device& d = devices[c];
    out += c ? ",\n      {\n" : "\n      {\n";
    out += "        \"meter\": " + nlohmann::json(d.meter_id).dump() + ",\n";
    out += "        \"device\": " + nlohmann::json(d.device_name).dump() + ",\n";
    out += "        \"component\": " + nlohmann::json(std::string(to_string(d.component))).dump() + ",\n";
    out += "        \"method\": " + nlohmann::json(std::string(to_string(d.method))).dump() + ",\n";
    array("joules", t.size(), [&](std::size_t i) {
      auto j = t.device_joules(i, c);
      if (j) append_json_number(out, *j);
      else out += "null";
    }, "        ", false);
    std::vector<std::size_t> incomplete;
    for (const auto& [row, col] : t.incomplete_cells())
      if (col == c) incomplete.push_back(row);
    array("incomplete_rows", incomplete.size(),
          [&](std::size_t i) { put_integer(out, static_cast<long long>(incomplete[i])); }, "        ", true);
    out += "      }";
  }
  out += devices.empty() ? "]\n  }" : "\n    ]\n  }";
  put(out);
}

}  // namespace

void write_json_summary(const Run& r, const ContentSink& put) {
  // Everything but the epochs through nlohmann (small: the power series are bounded), the epochs
  // spliced in where their mark stands.
  nlohmann::ordered_json j = run_json_except_epochs(r);
  j["epochs"] = kEpochsMark;
  std::string text = j.dump(2) + "\n";
  const std::string mark = "\n  \"epochs\": " + nlohmann::json(kEpochsMark).dump();
  std::size_t at = text.find(mark);
  if (at == std::string::npos) {  // cannot happen: the key is written at the top level
    put(text);
    return;
  }
  std::size_t value_at = at + mark.size() - nlohmann::json(kEpochsMark).dump().size();
  if (!put(std::string_view(text).substr(0, value_at))) return;
  put_epochs(r.epochs, put);
  put(std::string_view(text).substr(at + mark.size()));
}

std::string to_json(const Run& r) {
  std::string out;
  write_json_summary(r, [&](std::string_view piece) {
    out += piece;
    return true;
  });
  return out;
}

void JsonSummaryReporter::run_finished(const Run& run) {
  guarded([&] {
    return replace_file(sink(), path(), RecordFormat{}, [&](const ContentSink& put) { write_json_summary(run, put); });
  });
}

std::string write_file_atomically(const std::string& path, const std::string& content) {
  return replace_file(*system_file_sink(), path, RecordFormat{}, content).error;
}

}  // namespace epochwatt::detail
