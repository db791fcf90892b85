#include "report/json_summary.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
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
  std::string err = write_file_atomically(path_, to_json(run));
  if (!err.empty()) warn("JSON summary not written: " + err);
}

std::string write_file_atomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp." + std::to_string(static_cast<long>(::getpid()));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return "cannot write " + tmp + ": " + std::strerror(errno);
    f << content;
    f.flush();
    if (!f) return "cannot write " + tmp + ": " + std::strerror(errno);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string e = std::strerror(errno);
    std::remove(tmp.c_str());
    return "cannot rename " + tmp + " to " + path + ": " + e;
  }
  return "";
}

}  // namespace epochwatt::detail
