// `epochwatt report PATH [--html OUT.html] [--pdf OUT.pdf]`: a self-contained HTML report of one
// run (src/report/html_report.hpp) from its JSON summary or its carbontracker-format logs, and its
// PDF printed by headless Chromium. Usage: docs/report.md.
#pragma once

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "cli/command_line.hpp"

namespace epochwatt::cli {

// Registers the subcommand under `root`; it reads `ctx` when it is run. Exit status: 0 done, 1 the
// input could not be read or the PDF could not be made, 2 bad command line.
Subcommand add_report_command(CLI::App& root, ParseContext& ctx);

// The report of `input` to `html_path` (empty: report.html, or beside the PDF) and, if not empty,
// `pdf_path` (also carbontracker's --report mode); the exit status as above.
int make_report(const std::string& input, std::string html_path, const std::string& pdf_path, std::ostream& out,
                std::ostream& err);

// The JSON summary PATH names: PATH itself if it is a file, else the newest (modification time,
// then name) `*_epochwatt.json` directly in the directory PATH. nullopt with *why set otherwise.
std::optional<std::string> find_json_summary(const std::string& path, std::string* why, int* candidates = nullptr);

// What a report is made from: a JSON summary (path), or a standard log (path) with its output
// log (partner; empty when it is not beside it).
struct ReportInput {
  enum class Kind { json_summary, logs } kind = Kind::json_summary;
  std::string path, partner;
};

// Resolves PATH: a directory gives its newest JSON summary, else its newest standard log; a file
// named `..._carbontracker_output.log` gives its standard log (which must exist) and itself; a
// `..._carbontracker.log` gives itself and its output log if present; another file is a JSON
// summary if its first non-blank byte is '{', else a standard log. A directory that holds neither
// is looked into one level down (a folder given above the logs): the newest input of its
// subfolders. nullopt with *why set otherwise, naming the folder to give.
// *candidates: how many files of the chosen kind the directory (or its subfolders) held (1 for a file).
std::optional<ReportInput> find_report_input(const std::string& path, std::string* why, int* candidates = nullptr);

// The Chromium to run: EPOCHWATT_CHROMIUM if set (used only if executable), else the first of
// chromium, chromium-browser, google-chrome on PATH. Empty when none.
std::string find_chromium();

// Prints `html_path` to `pdf_path` with headless Chromium (cli/process.hpp: no shell, its own
// process group, a fresh profile and HOME in a temporary folder, killed after `timeout`). Returns "" or a
// one-line error.
std::string print_pdf_with_chromium(const std::string& chromium, const std::string& html_path,
                                    const std::string& pdf_path,
                                    std::chrono::seconds timeout = std::chrono::seconds(120));

}  // namespace epochwatt::cli
