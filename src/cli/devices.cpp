#include "cli/devices.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <ostream>

#include "epochwatt/registry.hpp"
#include "epochwatt/version.hpp"
#include "meters/rapl/rapl.hpp"

namespace epochwatt::cli {
namespace {

struct BackendReport {
  const BackendSpec* spec;
  Discovery found;
};

std::vector<BackendReport> run_all(const Options& o) {
  std::vector<BackendReport> out;
  for (const auto& spec : BackendRegistry::builtin().backends()) {
    Discovery d;
    try {
      d = spec.discover(o);
    } catch (const std::exception& e) {
      d.reason = std::string("discovery failed: ") + e.what();
    }
    out.push_back({&spec, std::move(d)});
  }
  return out;
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

std::string devices_text(const Options& o) {
  std::string s = "epochwatt " + std::string(kVersion) + ": measurement backends, in order of preference per component\n";
  for (const auto& r : run_all(o)) {
    s += "\n" + r.spec->name + " (" + components_of(*r.spec) + "): " + r.spec->description + "\n";
    if (r.found.meters.empty()) s += "  nothing found: " + r.found.reason + "\n";
    for (const auto& m : r.found.meters) {
      const MeterInfo& i = m->info();
      s += "  " + i.id + "  " + std::string(to_string(i.component)) + "  " + i.device_name + "  [" +
           std::string(to_string(i.method)) + "]" + (i.detail.empty() ? "" : "\n      " + i.detail) + "\n";
    }
    for (const auto& n : r.found.notes) s += "  note: " + n + "\n";
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
                        {"detail", i.detail}});
    }
    std::vector<std::string> comps;
    for (auto c : r.spec->components) comps.emplace_back(to_string(c));
    backends.push_back({{"name", r.spec->name},
                        {"description", r.spec->description},
                        {"components", comps},
                        {"options", r.spec->option_names},
                        {"meters", meters},
                        {"reason", r.found.meters.empty() ? nlohmann::ordered_json(r.found.reason) : nlohmann::ordered_json(nullptr)},
                        {"notes", r.found.notes}});
  }
  nlohmann::ordered_json j = {{"tool", "epochwatt"}, {"version", kVersion}, {"backends", backends}};
  return j.dump(2) + "\n";
}

int devices_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  bool json = false, fix = false;
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* dst) {
      if (i + 1 >= args.size()) return false;
      *dst = args[++i];
      return true;
    };
    if (a == "--json") json = true;
    else if (a == "--fix-permissions") fix = true;
    else if (a == "--powercap-root" && value(&o.powercap_root)) {}
    else if (a == "--drm-root" && value(&o.drm_root)) {}
    else if (a == "--proc-root" && value(&o.proc_root)) {}
    else if (a == "--nvml-library" && value(&o.nvml_library)) {}
    else if (a == "-h" || a == "--help") {
      out << "usage: epochwatt devices [--json] [--fix-permissions] [--powercap-root DIR] [--drm-root DIR] "
             "[--proc-root DIR] [--nvml-library PATH]\n"
             "Lists every measurement backend, the meters it found with their method, and why a\n"
             "backend found nothing. --fix-permissions (as root) makes RAPL energy counters readable.\n";
      return 0;
    } else {
      err << "epochwatt devices: unknown or incomplete option '" << a << "' (see epochwatt devices --help)\n";
      return 2;
    }
  }
  if (fix) {
    if (::geteuid() != 0) {
      err << "epochwatt devices: --fix-permissions must run as root (it changes the mode of "
          << o.powercap_root << "/*/energy_uj)\n";
      return 1;
    }
    for (const auto& line : meters::fix_rapl_permissions(o.powercap_root)) out << line << "\n";
    out << "To keep them readable after a reboot, add this udev rule (e.g. /etc/udev/rules.d/70-epochwatt-rapl.rules):\n"
        << meters::kRaplUdevRule << "\n";
    return 0;
  }
  out << (json ? devices_json(o) : devices_text(o));
  return 0;
}

}  // namespace epochwatt::cli
