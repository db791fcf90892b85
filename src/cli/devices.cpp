#include "cli/devices.hpp"

#include <nlohmann/json.hpp>
#include <ostream>
#include <type_traits>
#include <variant>

#include "epochwatt/registry.hpp"
#include "epochwatt/version.hpp"

namespace epochwatt::cli {
namespace {

struct BackendReport {
  const BackendSpec* spec;
  BackendConfig config;  // the values the backend was given
  Discovery found;
};

std::vector<BackendReport> run_all(const Options& o) {
  const BackendRegistry& registry = BackendRegistry::builtin();
  std::vector<BackendReport> out;
  for (const auto& spec : registry.backends()) {
    BackendConfig config = backend_config(spec, o, registry);
    Discovery d;
    try {
      d = spec.discover(config);
    } catch (const std::exception& e) {
      d.reason = std::string("discovery failed: ") + e.what();
    }
    out.push_back({&spec, std::move(config), std::move(d)});
  }
  return out;
}

// A backend option's value in JSON: a string, number, bool, component name or list; null unset.
nlohmann::ordered_json value_json(const std::optional<BackendValue>& v) {
  if (!v) return nullptr;
  return std::visit(
      [](const auto& x) -> nlohmann::ordered_json {
        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, Component>)
          return std::string(to_string(x));
        else
          return x;
      },
      *v);
}

std::string components_of(const BackendSpec& s) {
  std::string c;
  // Appends only: `"," + std::string` trips g++ 12's -Wrestrict at -O3 (GCC bug 105651).
  for (auto comp : s.components) {
    if (!c.empty()) c += ',';
    c += to_string(comp);
  }
  return c;
}

}  // namespace

namespace {

std::vector<std::string> covers_list(const MeterInfo& i) {
  std::vector<std::string> out;
  for (Component c : i.also_covers) out.emplace_back(to_string(c));
  return out;
}

// "cpu, dram: NVML's energy counter of ... (source)".
std::string covers_text(const MeterInfo& i) {
  std::string s;
  for (const auto& c : covers_list(i)) s += (s.empty() ? "" : ", ") + c;
  return s + (i.coverage.empty() ? "" : ": " + i.coverage);
}

}  // namespace

std::string devices_text(const Options& o) {
  std::string s = "epochwatt " + std::string(kVersion) + ": measurement backends, in order of preference per component\n";
  for (const auto& r : run_all(o)) {
    s += "\n" + r.spec->name + " (" + components_of(*r.spec) + "): " + r.spec->description + "\n";
    if (r.found.meters.empty()) s += "  nothing found: " + r.found.reason + "\n";
    for (const auto& m : r.found.meters) {
      const MeterInfo& i = m->info();
      s += "  " + i.id + "  " + std::string(to_string(i.component)) + "  " + i.device_name + "  [" +
           std::string(to_string(i.method)) + "]" + (i.detail.empty() ? "" : "\n      " + i.detail) + "\n";
      if (!i.also_covers.empty()) s += "      covers as well: " + covers_text(i) + "\n";
    }
    for (const auto& n : r.found.notes)
      s += std::string(n.affects_coverage ? "  note (changes what a run's total covers): " : "  note: ") + n.text + "\n";
  }
  return s;
}

std::string devices_json(const Options& o) {
  nlohmann::ordered_json backends = nlohmann::ordered_json::array();
  for (const auto& r : run_all(o)) {
    nlohmann::ordered_json meters = nlohmann::ordered_json::array();
    for (const auto& m : r.found.meters) {
      const MeterInfo& i = m->info();
      meters.push_back({{"id", i.id},
                        {"component", std::string(to_string(i.component))},
                        {"device", i.device_name},
                        {"method", std::string(to_string(i.method))},
                        {"detail", i.detail},
                        {"also_covers", covers_list(i)},
                        {"coverage", i.coverage}});
    }
    std::vector<std::string> notes, coverage_notes;
    for (const auto& n : r.found.notes) (n.affects_coverage ? coverage_notes : notes).push_back(n.text);
    std::vector<std::string> comps;
    for (auto c : r.spec->components) comps.emplace_back(to_string(c));
    nlohmann::ordered_json options = nlohmann::ordered_json::array();
    for (const auto& opt : r.spec->options)
      options.push_back({{"name", opt.name},
                         {"type", opt.type},
                         {"default", opt.default_value.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(opt.default_value)},
                         {"flag", opt.cli_flag},
                         {"help", opt.help},
                         {"value", value_json(r.config.values().at(opt.name))}});
    backends.push_back({{"name", r.spec->name},
                        {"description", r.spec->description},
                        {"components", comps},
                        {"options", options},
                        {"meters", meters},
                        {"reason", r.found.meters.empty() ? nlohmann::ordered_json(r.found.reason) : nlohmann::ordered_json(nullptr)},
                        {"notes", notes},
                        {"coverage_notes", coverage_notes}});
  }
  nlohmann::ordered_json j = {{"tool", "epochwatt"}, {"version", kVersion}, {"backends", backends}};
  return j.dump(2) + "\n";
}

}  // namespace epochwatt::cli
