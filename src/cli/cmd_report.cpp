#include "cli/cmd_report.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/process.hpp"
#include "report/html_report.hpp"
#include "report/json_summary.hpp"
#include "report/log_parse.hpp"
#include "report/report_from_log.hpp"

extern char** environ;

namespace epochwatt::cli {
namespace {

namespace fs = std::filesystem;

using detail::kOutputLogSuffix;
using detail::kStandardLogSuffix;

bool is_regular_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// Whether the file's first non-blank byte opens a JSON object.
bool looks_like_json(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char c = 0;
  while (f.get(c))
    if (!std::isspace(static_cast<unsigned char>(c))) return c == '{';
  return false;
}

bool executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// file:// URL of an absolute path: every byte outside RFC 3986's unreserved set and '/' encoded.
std::string file_url(const std::string& path) {
  static const char* hex = "0123456789ABCDEF";
  std::string url = "file://";
  for (unsigned char c : fs::absolute(path).lexically_normal().string()) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      url += static_cast<char>(c);
    } else {
      url += '%';
      url += hex[c >> 4];
      url += hex[c & 15];
    }
  }
  return url;
}

bool starts_with_pdf_signature(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char head[5] = {};
  return f.read(head, 5) && std::string(head, 5) == "%PDF-";
}

// The newest regular file directly in `dir` whose name ends with `suffix` (modification time,
// then name); *count: how many there are. nullopt when none, with *error set when `dir` could not
// be listed.
std::optional<fs::path> newest_with_suffix(const std::string& dir, std::string_view suffix, int* count, std::string* error) {
  std::error_code ec;
  std::optional<fs::path> best;
  fs::file_time_type best_time{};
  *count = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->path().filename().string().ends_with(suffix) || !it->is_regular_file(ec)) continue;
    fs::file_time_type t = it->last_write_time(ec);
    if (ec) continue;
    ++*count;
    if (!best || t > best_time || (t == best_time && it->path() > *best)) {
      best = it->path();
      best_time = t;
    }
  }
  if (ec) {
    *error = "cannot list " + dir + ": " + ec.message();
    return std::nullopt;
  }
  return best;
}

}  // namespace

std::optional<std::string> find_json_summary(const std::string& path, std::string* why, int* candidates) {
  std::error_code ec;
  if (candidates) *candidates = 0;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    *why = path + " does not exist";
    return std::nullopt;
  }
  if (!fs::is_directory(st)) {
    if (candidates) *candidates = 1;
    return path;
  }
  int n = 0;
  std::string list_error;
  auto best = newest_with_suffix(path, "_epochwatt.json", &n, &list_error);
  if (candidates) *candidates = n;
  if (!best) {
    *why = !list_error.empty() ? list_error : "no JSON summary (*_epochwatt.json) in " + path;
    return std::nullopt;
  }
  return best->string();
}

// The input directly in the folder `path` (or `path` itself, a file): find_report_input without
// the look one level down.
std::optional<ReportInput> find_report_input_in_folder(const std::string& path, std::string* why, int* candidates);

std::optional<ReportInput> find_report_input(const std::string& path, std::string* why, int* candidates) {
  if (candidates) *candidates = 0;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    auto here = find_report_input_in_folder(path, why, candidates);
    if (here) return here;
    // One level above the logs: the newest input of the subfolders that hold one.
    std::optional<ReportInput> best;
    fs::file_time_type best_time{};
    int total = 0;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code type_ec;
      if (!it->is_directory(type_ec)) continue;
      std::string sub_why;
      int n = 0;
      auto found = find_report_input_in_folder(it->path().string(), &sub_why, &n);
      if (!found) continue;
      total += n;
      std::error_code time_ec;
      auto t = fs::last_write_time(found->path, time_ec);
      if (!best || t > best_time) {
        best = found;
        best_time = t;
      }
    }
    if (best) {
      if (candidates) *candidates = total;
      return best;
    }
    *why += " or its subfolders: give the folder that holds the run's *_epochwatt.json or *_carbontracker.log";
    return std::nullopt;
  }
  return find_report_input_in_folder(path, why, candidates);
}

std::optional<ReportInput> find_report_input_in_folder(const std::string& path, std::string* why, int* candidates) {
  if (candidates) *candidates = 0;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    int n = 0;
    std::string json_why;
    if (auto summary = find_json_summary(path, &json_why, &n)) {
      if (candidates) *candidates = n;
      return ReportInput{ReportInput::Kind::json_summary, *summary, ""};
    }
    // No summary: the newest standard log (modification time, then name).
    std::string list_error;
    auto best = newest_with_suffix(path, kStandardLogSuffix, &n, &list_error);
    if (candidates) *candidates = n;
    if (!best) {
      *why = !list_error.empty() ? list_error
                                 : "no JSON summary (*_epochwatt.json) and no standard log (*_carbontracker.log) in " + path;
      return std::nullopt;
    }
    std::string std_path = best->string();
    std::string out_path = std_path.substr(0, std_path.size() - kStandardLogSuffix.size()) + std::string(kOutputLogSuffix);
    return ReportInput{ReportInput::Kind::logs, std_path, is_regular_file(out_path) ? out_path : ""};
  }
  if (!fs::exists(path, ec)) {
    *why = path + " does not exist";
    return std::nullopt;
  }
  if (candidates) *candidates = 1;
  std::string name = fs::path(path).filename().string();
  if (name.ends_with(kOutputLogSuffix)) {
    std::string std_path = path.substr(0, path.size() - kOutputLogSuffix.size()) + std::string(kStandardLogSuffix);
    if (!is_regular_file(std_path)) {
      *why = path + " is an output log, and its standard log " + std_path + " is not beside it";
      return std::nullopt;
    }
    return ReportInput{ReportInput::Kind::logs, std_path, path};
  }
  if (name.ends_with(kStandardLogSuffix)) {
    std::string out_path = path.substr(0, path.size() - kStandardLogSuffix.size()) + std::string(kOutputLogSuffix);
    return ReportInput{ReportInput::Kind::logs, path, is_regular_file(out_path) ? out_path : ""};
  }
  // Any other name: a JSON summary if it reads like one, else a standard log (carbontracker's
  // --report takes a standard log under any name).
  if (looks_like_json(path)) return ReportInput{ReportInput::Kind::json_summary, path, ""};
  return ReportInput{ReportInput::Kind::logs, path, ""};
}

std::string find_chromium() {
  if (const char* env = std::getenv("EPOCHWATT_CHROMIUM")) return executable_file(env) ? env : "";
  const char* path_env = std::getenv("PATH");
  std::string dirs = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    std::stringstream ss(dirs);
    std::string dir;
    while (std::getline(ss, dir, ':')) {
      std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
      if (executable_file(candidate)) return candidate;
    }
  }
  return "";
}

std::string print_pdf_with_chromium(const std::string& chromium, const std::string& html_path,
                                    const std::string& pdf_path, std::chrono::seconds timeout) {
  std::string tmpl = (fs::temp_directory_path() / "epochwatt-chromium-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return std::string("cannot create a temporary folder: ") + std::strerror(errno);
  const std::string tmp = tmpl;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{tmp};

  std::string pdf_abs = fs::absolute(pdf_path).string();
  std::vector<std::string> args = {chromium,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--user-data-dir=" + tmp + "/profile",
                                   "--print-to-pdf=" + pdf_abs,
                                   "--no-pdf-header-footer",
                                   file_url(html_path)};
  // Chromium writes under HOME and the XDG folders: give it the temporary folder.
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string v = *e;
    if (v.rfind("HOME=", 0) == 0 || v.rfind("XDG_CONFIG_HOME=", 0) == 0 || v.rfind("XDG_CACHE_HOME=", 0) == 0) continue;
    env.push_back(v);
  }
  env.push_back("HOME=" + tmp);
  env.push_back("XDG_CONFIG_HOME=" + tmp + "/config");
  env.push_back("XDG_CACHE_HOME=" + tmp + "/cache");
  std::error_code ec;
  fs::remove(pdf_abs, ec);  // so a stale file is never taken for a result
  SpawnOptions spawn;
  spawn.argv = std::move(args);
  spawn.env = std::move(env);
  spawn.in = Redirect::to_file("/dev/null");
  spawn.out = Redirect::to_file(tmp + "/chromium.log");
  spawn.stderr_to_stdout = true;
  spawn.own_process_group = true;  // its helpers (zygote, GPU process) join the group we may kill
  int error = 0;
  std::optional<Process> chromium_process = Process::spawn(spawn, &error);
  if (!chromium_process) return std::string("cannot start Chromium: ") + std::strerror(error);
  std::optional<int> status = chromium_process->wait_for(timeout);
  chromium_process->kill_group(SIGKILL);  // on a timeout; else the helpers it left behind, if any (ESRCH otherwise)
  if (!status) {
    chromium_process->wait();
    return "Chromium did not finish within " + std::to_string(timeout.count()) + " s; no PDF written";
  }
  if (shell_status(*status) != 0) return "Chromium failed (" + describe_wait_status(*status) + "); no PDF written";
  if (!starts_with_pdf_signature(pdf_abs)) return "Chromium exited without writing a PDF to " + pdf_path;
  return "";
}

Subcommand add_report_command(CLI::App& root, ParseContext& ctx) {
  struct Args {
    std::string input, html_path, pdf_path;
  };
  auto a = std::make_shared<Args>();
  Subcommand sub;
  sub.app = add_subcommand(
      root, "report",
      "Write a self-contained HTML report of one run, and its PDF with headless Chromium.\n"
      "PATH is an epochwatt JSON summary (..._epochwatt.json), a carbontracker-format log (..._carbontracker.log or "
      "..._carbontracker_output.log, from carbontracker 2.3/2.4 or epochwatt; the other file of the pair is read too "
      "when it is beside it), or a log directory: its newest JSON summary, else its newest standard log. Without "
      "--html or --pdf the report goes to report.html.");
  sub.app->footer("More: docs/report.md.");
  add_help(*sub.app, ctx, sub.help.get());
  // An empty value is refused as a missing one.
  auto path = [](std::string* dst) {
    return [dst](const std::string& name, const std::string& value) {
      if (value.empty()) throw BadArgument{BadArgument::Kind::missing_value, name, ""};
      *dst = value;
    };
  };
  add_value(*sub.app, ctx, "--html", "OUT.html", "Where the HTML report goes (default report.html, or beside --pdf).",
            path(&a->html_path));
  add_value(*sub.app, ctx, "--pdf", "OUT.pdf",
            "Also print the report to this PDF with headless Chromium (EPOCHWATT_CHROMIUM, else chromium, "
            "chromium-browser or google-chrome on PATH); the HTML is written beside it unless --html names it.",
            path(&a->pdf_path));
  add_positionals(*sub.app, "PATH", "The run: a JSON summary, a carbontracker-format log, or a log directory.",
                  [a](const std::string& p) { a->input = p; })
      ->expected(1);
  sub.message = [](const BadArgument& bad) {
    return "unexpected or incomplete argument " + in_quotes(bad.name) + " (see epochwatt report --help)";
  };
  sub.run = [a](std::ostream& out, std::ostream& err) {
    if (a->input.empty()) throw CliError("which run? Give a JSON summary or a log directory (see epochwatt report --help)");
    return make_report(a->input, a->html_path, a->pdf_path, out, err);
  };
  return sub;
}

int make_report(const std::string& input, std::string html_path, const std::string& pdf_path, std::ostream& out,
                std::ostream& err) {
  if (html_path.empty())
    html_path = pdf_path.empty() ? "report.html" : fs::path(pdf_path).replace_extension(".html").string();
  if (!pdf_path.empty() && fs::absolute(pdf_path) == fs::absolute(html_path)) {
    err << "epochwatt report: --html and --pdf name the same file " << pdf_path << "\n";
    return 2;
  }

  std::string why;
  int candidates = 0;
  auto found = find_report_input(input, &why, &candidates);
  if (!found) {
    err << "epochwatt report: " << why << "\n";
    return 1;
  }
  if (std::error_code ec; fs::is_directory(input, ec) &&
                          !fs::equivalent(fs::path(found->path).parent_path(), fs::path(input), ec))
    err << "epochwatt report: no JSON summary or standard log directly in " << input << "; reading its subfolder "
        << fs::path(found->path).parent_path().string() << "\n";
  if (candidates > 1)
    err << "epochwatt report: " << candidates
        << (found->kind == ReportInput::Kind::json_summary ? " JSON summaries" : " standard logs") << " in " << input
        << "; reporting the newest, " << found->path << "\n";
  detail::ReportData data;
  if (found->kind == ReportInput::Kind::logs) {
    try {
      detail::ParsedRun run = found->partner.empty() ? detail::parse_standard_log(found->path)
                                                     : detail::parse_log_pair(found->path, found->partner);
      for (const auto& n : run.notes) err << "epochwatt report: warning: " << run.std_log << ": " << n << "\n";
      for (const auto& n : run.output_notes) err << "epochwatt report: warning: " << run.output_log << ": " << n << "\n";
      data = detail::report_data_from_parsed_run(run);
    } catch (const detail::LogParseError& e) {
      err << "epochwatt report: " << e.what() << "\n";
      return 1;
    }
  } else {
    std::ifstream f(found->path, std::ios::binary);
    std::stringstream text;
    text << f.rdbuf();
    if (!f) {
      err << "epochwatt report: cannot read " << found->path << ": " << std::strerror(errno) << "\n";
      return 1;
    }
    try {
      data = detail::report_data_from_json_summary(nlohmann::json::parse(text.str()));
    } catch (const nlohmann::json::exception& e) {
      err << "epochwatt report: " << found->path << " is not valid JSON (" << e.what() << ")\n";
      return 1;
    } catch (const std::invalid_argument& e) {
      err << "epochwatt report: " << found->path << " is " << e.what() << "\n";
      return 1;
    }
    data.source = found->path;
  }
  std::string werr = detail::write_file_atomically(html_path, detail::render_html(data));
  if (!werr.empty()) {
    err << "epochwatt report: " << werr << "\n";
    return 1;
  }
  out << "Report written: " << html_path << "\n";
  if (pdf_path.empty()) return 0;

  std::string chromium = find_chromium();
  if (chromium.empty()) {
    err << "epochwatt: --pdf needs Chromium (apt-get install chromium); the HTML report was written to " << html_path
        << "\n";
    return 1;
  }
  std::string perr = print_pdf_with_chromium(chromium, html_path, pdf_path);
  if (!perr.empty()) {
    err << "epochwatt report: " << perr << "; the HTML report was written to " << html_path << "\n";
    return 1;
  }
  out << "Report generated: " << pdf_path << "\n";
  return 0;
}

}  // namespace epochwatt::cli
