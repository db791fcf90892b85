// What every command line of `epochwatt` shares on top of CLI11 (src/cli/main.cpp wires the App,
// src/cli/cmd_*.cpp define one (sub)command each):
//  - the help form: "Usage: ..." first, then the description, the option groups (options users
//    need first, test seams last in kSeamsGroup), the subcommands and the footer, wrapped at 100
//    columns, for the main command and every subcommand alike;
//  - options whose callbacks run as each option is read (trigger_on_parse), so that the command
//    line is read in order as getopt does: a value is the next argument whatever it looks like,
//    the last of a repeated option wins, -h/--help ends the parse where it appears;
//  - the bad-argument cases CLI11 leaves to us (an unknown option, an option without its value,
//    a flag given a value), reported with the command's own words.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace epochwatt::cli {

// A command line that cannot be run: the message is one line, without the "epochwatt: " prefix.
// The command prints it and exits with status 2; nothing is started.
class CliError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown by an option's callback to end the parse where that option stands (--help, --version,
// --parse DIR): what follows is not read.
struct StopParsing {};

// An argument CLI11 could not place, in the terms of the command line.
struct BadArgument {
  enum class Kind {
    unknown,        // an option no one defines (or, where no positional is expected, a stray word)
    missing_value,  // an option that takes a value, last on the command line
    flag_value,     // --flag=value for a flag
  } kind;
  std::string name;     // as written, without "=value"
  std::string metavar;  // the value's name in the help (missing_value)
};

inline constexpr std::string_view kSeamsGroup = "Advanced / test seams";
inline constexpr std::size_t kHelpColumn = 30;
inline constexpr std::size_t kHelpWidth = 100;

// The help form of every epochwatt command.
class HelpFormatter : public CLI::Formatter {
 public:
  HelpFormatter();
  // The lines after "Usage: " for `app` (without it: CLI11's, e.g. "epochwatt parse [OPTIONS] DIR...").
  void set_usage(const CLI::App* app, std::string usage) { usage_[app] = std::move(usage); }

  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override;
  std::string make_usage(const CLI::App* app, std::string name) const override;
  std::string make_option_desc(const CLI::Option* opt) const override;
  std::string make_subcommand(const CLI::App* sub) const override;  // its description's first line

 private:
  std::map<const CLI::App*, std::string> usage_;
};

// `text` wrapped at `width` columns; each line after a break (and each line of the text) starts
// `indent` spaces in; the first line is taken to start at column `indent`.
std::string wrap(std::string_view text, std::size_t indent, std::size_t width = kHelpWidth);

// One command line being read: the arguments (after the command's name) and where CLI11 is in
// them, so that option callbacks can see the argument they came from.
class ParseContext {
 public:
  explicit ParseContext(std::vector<std::string> args);
  const std::vector<std::string>& args() const { return args_; }
  // The index in args() of the last argument CLI11 consumed (valid inside an option callback).
  std::size_t last_index() const { return args_.size() - pending_.size() - 1; }
  const std::string& last_arg() const { return args_[last_index()]; }
  // Parses with `app`. Returns normally at the end of the arguments or at StopParsing. Throws
  // BadArgument for a missing value or a flag given a value, CliError from the callbacks.
  void parse(CLI::App& app);
  // A value as given: CLI11 saw `--name=` as `--name` and took the next argument as its value,
  // so such arguments are marked before the parse, and the marks taken off what comes back.
  static std::string unmark(std::string value);
  // What CLI11 left over (unknown options, and words it had no place for), unmarked, in order.
  std::vector<std::string> remaining(const CLI::App& app) const;

 private:
  std::vector<std::string> args_;
  std::vector<std::string> pending_;  // reversed, marked; CLI11 consumes it from the back
};

// A value option whose callback gets the value as given (and the name as written).
CLI::Option* add_value(CLI::App& app, ParseContext& ctx, const std::string& names, const std::string& metavar,
                       const std::string& help,
                       std::function<void(const std::string& name, const std::string& value)> apply);
// A flag; --flag=value is a BadArgument (flag_value).
CLI::Option* add_flag(CLI::App& app, ParseContext& ctx, const std::string& names, const std::string& help,
                      std::function<void()> apply);
// Positional words (after the options, or anywhere but as an option's value), each given to `apply`.
CLI::Option* add_positionals(CLI::App& app, const std::string& name, const std::string& help,
                             std::function<void(const std::string&)> apply);
// A subcommand of `root`, read on its own (main.cpp): CLI11 leaves what it cannot place to us.
CLI::App* add_subcommand(CLI::App& root, const std::string& name, const std::string& description);
// -h, --help: sets *help and ends the parse where it stands.
CLI::Option* add_help(CLI::App& app, ParseContext& ctx, bool* help, const std::string& group = "Options");

// The name of an argument as written: "--name" of "--name=value".
std::string option_name(const std::string& arg);
std::string in_quotes(const std::string& value);

}  // namespace epochwatt::cli

namespace epochwatt::cli {

// A subcommand (`epochwatt devices ...`): its App, registered under the main one so that the main
// help lists it, and read on its own when it is the first argument (main.cpp).
struct Subcommand {
  CLI::App* app = nullptr;
  std::shared_ptr<bool> help = std::make_shared<bool>(false);  // -h/--help was given
  bool dash_dash_ends_options = false;  // `--` ends the options (words after it are positionals)
  // The one-line message (without "epochwatt NAME: ") for an argument that cannot be read.
  std::function<std::string(const BadArgument&)> message;
  // Runs the parsed command; throws CliError for a command line that cannot be run (status 2).
  std::function<int(std::ostream& out, std::ostream& err)> run;
};

// The usual words: "unknown option 'X' (see SEE)", "X needs a value (V)", "X takes no value".
std::string bad_argument_message(const BadArgument& bad, const std::string& see);

// Reads `ctx`'s arguments with `sub`, prints its help or runs it; the exit status (2 for a bad
// command line, with one line "epochwatt NAME: ..." on `err`).
int run_subcommand(Subcommand& sub, ParseContext& ctx, std::ostream& out, std::ostream& err);

}  // namespace epochwatt::cli
