#include "cli/cmd_intensity.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/cmd_run.hpp"
#include "core/format.hpp"
#include "epochwatt/errors.hpp"
#include "epochwatt/limits.hpp"
#include "intensity/plan.hpp"
#include "intensity/service.hpp"

namespace epochwatt::cli {
namespace {

using nlohmann::json;
using std::chrono::system_clock;

// What the two subcommands read: their own options, and the location options of a tracked run.
struct SubArgs {
  bool json = false;
  std::optional<std::string> duration, within, energy_kwh, from_json, now;
  Options options;
};

json location_json(const Location& l) {
  json j = {{"address", l.address()}, {"rule", l.rule}, {"country", l.country}, {"zone", l.zone},
            {"postcode", l.postcode}, {"cloud", l.cloud}};
  j["lat"] = l.lat ? json(*l.lat) : json(nullptr);
  j["lon"] = l.lon ? json(*l.lon) : json(nullptr);
  return j;
}

void print_notes(detail::IntensityService& service, std::ostream& err, json* warnings) {
  for (const auto& n : service.take_notes()) {
    err << "epochwatt: " << (n.warning ? "warning: " : "") << n.text << "\n";
    if (warnings && n.warning) warnings->push_back(n.text);
  }
}

// The options both subcommands share; the test seams last.
Subcommand make_subcommand(CLI::App& root, ParseContext& ctx, const std::string& name, const std::string& description,
                           const std::shared_ptr<SubArgs>& a, bool plan) {
  Subcommand sub;
  sub.dash_dash_ends_options = true;
  sub.app = add_subcommand(root, name, description);
  sub.app->footer("API keys come from EPOCHWATT_ELECTRICITYMAPS_TOKEN or the config file (docs/intensity.md).");
  add_help(*sub.app, ctx, sub.help.get());
  add_flag(*sub.app, ctx, "--json", "Print the answer as JSON.", [a] { a->json = true; });
  if (plan) {
    auto into = [](std::optional<std::string>* dst) {
      return [dst](const std::string&, const std::string& v) { *dst = v; };
    };
    add_value(*sub.app, ctx, "--duration", "D", "Length of the job (e.g. 6h, 90m, 1h30m). Required.", into(&a->duration));
    add_value(*sub.app, ctx, "--within", "W", "The job must end within W from now (default 24h).", into(&a->within));
    add_value(*sub.app, ctx, "--energy-kwh", "E", "Energy of the job, in kWh: the grams saved are printed too.",
              into(&a->energy_kwh));
    add_value(*sub.app, ctx, "--from-json", "SUMMARY.json",
              "The job's energy from an epochwatt JSON summary (its prediction, else its total).", into(&a->from_json));
  }
  add_location_options(*sub.app, ctx, a->options);
  if (plan)  // a test seam: the seams' group comes last
    add_value(*sub.app, ctx, "--now", "YYYY-MM-DDTHH:MMZ", "Plan as if it were this time (UTC) now.",
              [a](const std::string&, const std::string& v) { a->now = v; })
        ->group(std::string(kSeamsGroup));
  add_intensity_seams(*sub.app, ctx, a->options);
  sub.message = [name](const BadArgument& bad) {
    if (bad.kind == BadArgument::Kind::unknown && (bad.name.empty() || bad.name[0] != '-'))
      return "unexpected argument " + in_quotes(bad.name);
    return bad_argument_message(bad, "epochwatt " + name + " --help");
  };
  return sub;
}

int intensity_run(const SubArgs& sub, std::ostream& out, std::ostream& err);
int plan_run(const SubArgs& sub, std::ostream& out, std::ostream& err);

}  // namespace

Subcommand add_intensity_command(CLI::App& root, ParseContext& ctx) {
  auto a = std::make_shared<SubArgs>();
  Subcommand sub = make_subcommand(root, ctx, "intensity",
                                   "Print the carbon intensity a run started now would use.\n"
                                   "Prints its value, source, time and location, and which rule located it.",
                                   a, false);
  sub.run = [a](std::ostream& out, std::ostream& err) { return intensity_run(*a, out, err); };
  return sub;
}

Subcommand add_plan_command(CLI::App& root, ParseContext& ctx) {
  auto a = std::make_shared<SubArgs>();
  Subcommand sub = make_subcommand(
      root, ctx, "plan",
      "Print the start time that minimises a job's emissions, from a carbon-intensity forecast.\n"
      "Reads the forecast for the location and prints the start time, within the next W (default 24h; the job must "
      "end by then), that minimises the mean intensity over a job of length D, the expected gCO2eq/kWh, and the "
      "saving against starting now. With the job's energy (--energy-kwh, or the prediction or total of an epochwatt "
      "JSON summary) it prints the grams saved. Forecasts: carbonintensity.org.uk (Great Britain, 48 h), Energi Data "
      "Service (Denmark), Electricity Maps (with a key and a plan that has forecasts).",
      a, true);
  sub.run = [a](std::ostream& out, std::ostream& err) { return plan_run(*a, out, err); };
  return sub;
}

namespace {

int intensity_run(const SubArgs& sub, std::ostream& out, std::ostream& err) {
  try {
    Options o = sub.options;
    o.epochs = 1;  // validate() checks a tracked run; only the intensity options matter here
    validate(o);
    detail::IntensityService service(o);
    IntensityValue v = service.current_blocking();
    Location loc = service.location();
    json warnings = json::array();
    print_notes(service, err, &warnings);
    auto when = v.at.time_since_epoch().count() != 0 ? detail::iso_utc(v.at) : std::string();
    if (sub.json) {
      json j = {{"g_per_kwh", v.g_per_kwh}, {"unit", "gCO2eq/kWh"}, {"source", v.source},
                {"description", v.description}, {"live", v.live}, {"time", when.empty() ? json(nullptr) : json(when)},
                {"queried", detail::iso_utc(system_clock::now())}, {"location", location_json(loc)},
                {"live_providers", service.live_provider_names()}, {"warnings", warnings}};
      out << j.dump(2) << "\n";
    } else {
      out << "Carbon intensity: " << detail::fixed(v.g_per_kwh, 2) << " gCO2eq/kWh\n"
          << "Source: " << v.source << " (" << v.description << ")\n"
          << "Time: " << (when.empty() ? "not given by the source (an annual or fixed value)" : when) << "\n"
          << "Location: " << loc.address() << " (rule: " << loc.rule << ")\n";
      auto names = service.live_provider_names();
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      out << "Live providers: " << (list.empty() ? "none for this location" : list) << "\n";
    }
    return 0;
  } catch (const CliError& e) {
    err << "epochwatt intensity: " << e.what() << "\n";
    return 2;
  } catch (const OptionsError& e) {
    err << "epochwatt intensity: " << e.what() << "\n";
    return 2;
  }
}

int plan_run(const SubArgs& sub, std::ostream& out, std::ostream& err) {
  try {
    if (!sub.duration) throw CliError("--duration is required (e.g. --duration 6h)");
    auto duration = detail::parse_duration(*sub.duration);
    if (!duration) throw CliError("--duration: '" + *sub.duration + "' is not a duration (e.g. 6h, 90m, 1h30m)");
    double within = 24 * 3600.0;
    if (sub.within) {
      auto w = detail::parse_duration(*sub.within);
      if (!w) throw CliError("--within: '" + *sub.within + "' is not a duration (e.g. 24h)");
      within = *w;
    }
    if (within < *duration) throw CliError("--within must be at least --duration");
    std::optional<double> energy;
    std::string energy_origin;
    if (sub.energy_kwh) {
      double e = 0;
      const std::string& t = *sub.energy_kwh;
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), e);
      if (ec != std::errc() || p != t.data() + t.size() || !(e >= 0 && e <= limits::kMaxJobEnergyKwh))
        throw CliError("--energy-kwh: '" + t + "' is not a number of kWh from 0 to 1e9 (1 TWh)");
      energy = e;
      energy_origin = "given";
    }
    if (sub.from_json) {
      std::ifstream in(*sub.from_json);
      json j = json::parse(in, nullptr, false);
      if (!in || j.is_discarded()) throw CliError("--from-json: cannot read an epochwatt JSON summary from " + *sub.from_json);
      for (const char* block : {"prediction", "actual"}) {
        if (j.contains(block) && j[block].is_object() && j[block].contains("energy_kwh") && j[block]["energy_kwh"].is_number()) {
          double e = j[block]["energy_kwh"].get<double>();
          if (!(e >= 0 && e <= limits::kMaxJobEnergyKwh))
            throw CliError("--from-json: " + *sub.from_json + ": " + block + ".energy_kwh " + detail::fixed(e, 3) +
                           " is not a number of kWh from 0 to 1e9 (1 TWh)");
          energy = e;
          energy_origin = std::string(block == std::string("prediction") ? "predicted" : "measured") + " in " + *sub.from_json;
          break;
        }
      }
      if (!energy) throw CliError("--from-json: " + *sub.from_json + " holds neither a prediction nor a total");
    }
    auto now = system_clock::now();
    if (sub.now) {
      auto t = detail::parse_iso_utc(*sub.now);
      if (!t) throw CliError("--now: '" + *sub.now + "' is not YYYY-MM-DDTHH:MM[:SS]Z");
      now = *t;
    }
    Options o = sub.options;
    o.epochs = 1;  // validate() checks a tracked run; only the intensity options matter here
    validate(o);
    detail::IntensityService service(o);
    std::string why;
    auto to = now + std::chrono::duration_cast<system_clock::duration>(std::chrono::duration<double>(within));
    auto forecast = service.forecast_blocking(now, to, &why);
    print_notes(service, err, nullptr);
    Location loc = service.location();
    if (!forecast) {
      err << "epochwatt plan: no forecast for " << loc.address() << ": " << why << "\n";
      return 1;
    }
    auto plan = detail::plan_start(*forecast, now, *duration, within, &why);
    if (!plan) {
      err << "epochwatt plan: " << forecast->source << ": " << why << "\n";
      return 1;
    }
    double wait_h = std::chrono::duration<double>(plan->best.start - now).count() / 3600.0;
    if (sub.json) {
      json j = {{"location", location_json(loc)}, {"source", forecast->source}, {"duration_s", *duration},
                {"within_s", within}, {"now", {{"start", detail::iso_utc(now)}, {"g_per_kwh", plan->now.mean_g_per_kwh}}},
                {"best", {{"start", detail::iso_utc(plan->best.start)}, {"g_per_kwh", plan->best.mean_g_per_kwh},
                          {"wait_h", wait_h}}},
                {"saving_g_per_kwh", plan->saving_g_per_kwh()}, {"saving_percent", plan->saving_percent()},
                {"candidates", plan->candidates}, {"horizon_limited", plan->horizon_limited}};
      if (energy) {
        j["energy_kwh"] = *energy;
        j["energy_origin"] = energy_origin;
        j["grams_now"] = *energy * plan->now.mean_g_per_kwh;
        j["grams_best"] = *energy * plan->best.mean_g_per_kwh;
        j["grams_saved"] = *energy * plan->saving_g_per_kwh();
      }
      out << j.dump(2) << "\n";
      return 0;
    }
    out << "Forecast: " << forecast->source << " for " << loc.address() << " (rule: " << loc.rule << "), "
        << plan->candidates << " start times compared\n";
    out << "Best start: " << detail::iso_utc(plan->best.start) << " (in " << detail::fixed(wait_h, 1) << " h), expected "
        << detail::fixed(plan->best.mean_g_per_kwh, 1) << " gCO2eq/kWh over " << *sub.duration << "\n";
    out << "Starting now: " << detail::fixed(plan->now.mean_g_per_kwh, 1) << " gCO2eq/kWh\n";
    out << "Saving: " << detail::fixed(plan->saving_g_per_kwh(), 1) << " gCO2eq/kWh ("
        << detail::fixed(plan->saving_percent(), 1) << " %)\n";
    if (energy)
      out << "For " << detail::fixed(*energy, 3) << " kWh (" << energy_origin << "): "
          << detail::fixed(*energy * plan->best.mean_g_per_kwh, 1) << " gCO2eq instead of "
          << detail::fixed(*energy * plan->now.mean_g_per_kwh, 1) << " gCO2eq, "
          << detail::fixed(*energy * plan->saving_g_per_kwh(), 1) << " g saved\n";
    if (plan->horizon_limited)
      out << "Note: the forecast ends before the window does; later starts were not compared.\n";
    return 0;
  } catch (const CliError& e) {
    err << "epochwatt plan: " << e.what() << "\n";
    return 2;
  } catch (const OptionsError& e) {
    err << "epochwatt plan: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace

}  // namespace epochwatt::cli
