#include "report/json_summary.hpp"

#include <nlohmann/json.hpp>

#include "report/run_json.hpp"

#include "core/format.hpp"
#include "epochwatt/version.hpp"

namespace epochwatt::detail {

std::string to_json(const Run& r) {
  // nlohmann-json formats numbers itself (locale-independent, shortest round-trip).
  return nlohmann::ordered_json(r).dump(2) + "\n";
}

void JsonSummaryReporter::run_finished(const Run& run) {
  guarded([&] { return replace_file(sink(), path(), RecordFormat{}, to_json(run)); });
}

std::string write_file_atomically(const std::string& path, const std::string& content) {
  return replace_file(*system_file_sink(), path, RecordFormat{}, content).error;
}

}  // namespace epochwatt::detail
