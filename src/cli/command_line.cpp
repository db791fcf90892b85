#include "cli/command_line.hpp"

#include <algorithm>
#include <sstream>

namespace epochwatt::cli {
namespace {

// Appended to an argument `--name=` before CLI11 reads it (CLI11 2.1 takes `--name=` as `--name`
// and the next argument as the value), and taken off every value and left-over argument.
constexpr char kEmptyValueMark = '\x1f';

bool is_empty_assignment(const std::string& arg) { return arg.size() > 3 && arg.rfind("--", 0) == 0 && arg.back() == '='; }

}  // namespace

std::string in_quotes(const std::string& value) { return "'" + value + "'"; }

std::string option_name(const std::string& arg) {
  auto eq = arg.find('=');
  if (arg.rfind("--", 0) != 0 || eq == std::string::npos) return arg;
  return arg.substr(0, eq);
}

std::string wrap(std::string_view text, std::size_t indent, std::size_t width) {
  std::string out;
  std::size_t column = indent;
  bool line_start = true;
  for (std::size_t i = 0; i <= text.size();) {
    std::size_t nl = std::min(text.find('\n', i), text.size());
    std::istringstream words{std::string(text.substr(i, nl - i))};
    std::string word;
    while (words >> word) {
      if (!line_start && column + 1 + word.size() > width) {
        out += "\n" + std::string(indent, ' ');
        column = indent;
      } else if (!line_start) {
        out += ' ';
        ++column;
      }
      out += word;
      column += word.size();
      line_start = false;
    }
    if (nl >= text.size()) break;
    out += "\n";
    if (nl + 1 < text.size() && text[nl + 1] != '\n') out += std::string(indent, ' ');
    column = indent;
    line_start = true;
    i = nl + 1;
  }
  return out;
}

HelpFormatter::HelpFormatter() { column_width(kHelpColumn); }

std::string HelpFormatter::make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const {
  if (mode == CLI::AppFormatMode::Sub) return make_expanded(app);
  std::string out = make_usage(app, name);
  // The description's first line (the summary the main help lists), then the rest as a paragraph.
  std::string desc = app->get_description();
  if (auto nl = desc.find('\n'); nl != std::string::npos) desc.insert(nl, "\n");
  if (!desc.empty()) out += "\n" + wrap(desc, 0) + "\n";
  out += make_positionals(app);
  out += make_groups(app, mode);
  out += make_subcommands(app, mode);
  if (!app->get_footer().empty()) out += "\n" + app->get_footer() + "\n";
  // CLI11 ends each option group but the last with an empty line, and starts each with another.
  for (auto blank = out.find("\n\n\n"); blank != std::string::npos; blank = out.find("\n\n\n"))
    out.erase(blank, 1);
  return out;
}

std::string HelpFormatter::make_usage(const CLI::App* app, std::string name) const {
  auto it = usage_.find(app);
  if (it == usage_.end()) return CLI::Formatter::make_usage(app, std::move(name));
  // Continuation lines line up under the first.
  std::string out = "Usage: ";
  for (char c : it->second) out += c == '\n' ? std::string("\n       ") : std::string(1, c);
  return out + "\n";
}

std::string HelpFormatter::make_option_desc(const CLI::Option* opt) const {
  return wrap(opt->get_description(), 0, kHelpWidth - kHelpColumn);
}

std::string HelpFormatter::make_subcommand(const CLI::App* sub) const {
  std::string desc = sub->get_description();
  std::stringstream out;
  CLI::detail::format_help(out, sub->get_display_name(), wrap(desc.substr(0, desc.find('\n')), 0, kHelpWidth - kHelpColumn),
                           kHelpColumn);
  return out.str();
}

ParseContext::ParseContext(std::vector<std::string> args) : args_(std::move(args)) {
  for (auto it = args_.rbegin(); it != args_.rend(); ++it)
    pending_.push_back(is_empty_assignment(*it) ? *it + kEmptyValueMark : *it);
}

std::string ParseContext::unmark(std::string value) {
  if (!value.empty() && value.back() == kEmptyValueMark) value.pop_back();
  return value;
}

void ParseContext::parse(CLI::App& app) {
  try {
    app.parse(pending_);
  } catch (const StopParsing&) {
  } catch (const CLI::ArgumentMismatch& e) {
    // CLI11 ran out of arguments for an option's value: the option is the last argument.
    if (args_.empty() || args_.back().rfind("-", 0) != 0) throw CliError(e.what());
    BadArgument bad{BadArgument::Kind::missing_value, option_name(args_.back()), ""};
    if (const CLI::Option* opt = app.get_option_no_throw(bad.name)) bad.metavar = opt->get_type_name();
    throw bad;
  } catch (const CLI::ParseError& e) {
    throw CliError(e.what());
  }
}

std::vector<std::string> ParseContext::remaining(const CLI::App& app) const {
  std::vector<std::string> out;
  for (auto& arg : app.remaining()) out.push_back(unmark(arg));
  return out;
}

CLI::Option* add_value(CLI::App& app, ParseContext& ctx, const std::string& names, const std::string& metavar,
                       const std::string& help,
                       std::function<void(const std::string& name, const std::string& value)> apply) {
  CLI::callback_t callback = [&ctx, apply](const CLI::results_t& results) {
    // The option's own argument: the value's (`--name value`) or itself (`--name=value`).
    std::size_t index = ctx.last_index();
    std::string value = ParseContext::unmark(results.empty() ? std::string() : results.back());
    const std::string& given = ctx.args()[index];
    std::string name = option_name(given != value || index == 0 ? given : ctx.args()[index - 1]);
    apply(name, value);
    return true;
  };
  CLI::Option* opt = app.add_option(names, callback, help);
  opt->type_name(metavar)->expected(1)->trigger_on_parse()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  return opt;
}

CLI::Option* add_flag(CLI::App& app, ParseContext& ctx, const std::string& names, const std::string& help,
                      std::function<void()> apply) {
  CLI::callback_t callback = [&ctx, apply](const CLI::results_t&) {
    const std::string& given = ctx.last_arg();
    if (given.rfind("--", 0) == 0 && given.find('=') != std::string::npos)
      throw BadArgument{BadArgument::Kind::flag_value, option_name(given), ""};
    apply();
    return true;
  };
  CLI::Option* opt = app.add_option(names, callback, help);
  opt->expected(0)->trigger_on_parse()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  return opt;
}

CLI::Option* add_positionals(CLI::App& app, const std::string& name, const std::string& help,
                             std::function<void(const std::string&)> apply) {
  CLI::callback_t callback = [apply](const CLI::results_t& results) {
    for (const auto& r : results) apply(ParseContext::unmark(r));
    return true;
  };
  // No type name: the help would show it after the name ("PATH PATH").
  return app.add_option(name, callback, help)->type_name("")->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

CLI::App* add_subcommand(CLI::App& root, const std::string& name, const std::string& description) {
  CLI::App* sub = root.add_subcommand(name, description);
  sub->prefix_command(false)->allow_extras()->footer("");  // not the main command's settings
  return sub;
}

CLI::Option* add_help(CLI::App& app, ParseContext& ctx, bool* help, const std::string& group) {
  app.set_help_flag();  // ours instead: it ends the parse where it stands
  return add_flag(app, ctx, "-h,--help", "Print this help and exit.", [help] {
           *help = true;
           throw StopParsing{};
         })->group(group);
}

}  // namespace epochwatt::cli

namespace epochwatt::cli {

std::string bad_argument_message(const BadArgument& bad, const std::string& see) {
  switch (bad.kind) {
    case BadArgument::Kind::missing_value:
      return bad.name + " needs a value" + (bad.metavar.empty() ? "" : " (" + bad.metavar + ")");
    case BadArgument::Kind::flag_value:
      return bad.name + " takes no value";
    case BadArgument::Kind::unknown:
      break;
  }
  return "unknown option " + in_quotes(option_name(bad.name)) + " (see " + see + ")";
}

int run_subcommand(Subcommand& sub, ParseContext& ctx, std::ostream& out, std::ostream& err) {
  const std::string prefix = "epochwatt " + sub.app->get_name() + ": ";
  try {
    ctx.parse(*sub.app);
    std::vector<std::string> left = ctx.remaining(*sub.app);
    if (sub.dash_dash_ends_options) {
      auto dash = std::find(left.begin(), left.end(), "--");
      if (dash != left.end()) left.erase(dash);
    }
    if (!left.empty()) throw BadArgument{BadArgument::Kind::unknown, left.front(), ""};
    if (*sub.help) {
      out << sub.app->help("epochwatt");
      return 0;
    }
    return sub.run(out, err);
  } catch (const BadArgument& bad) {
    err << prefix << sub.message(bad) << "\n";
  } catch (const CliError& e) {
    err << prefix << e.what() << "\n";
  }
  return 2;
}

}  // namespace epochwatt::cli
