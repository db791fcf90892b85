#include "meters/rapl/rapl.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>

#include "core/linear_meter.hpp"

namespace epochwatt::meters {
namespace {

// A powercap zone directory name: intel-rapl:P or intel-rapl:P:S, likewise intel-rapl-mmio:...
// (P and S one or more ASCII digits). Matched by hand rather than with std::regex: the same
// language, and at -O3 with -fsanitize=address,undefined g++ 12 warns (-Wmaybe-uninitialized, a
// false positive inside <regex>'s compiler, GCC bug 105616) on any std::regex built here.
struct ZoneName {
  std::string prefix;   // "intel-rapl" or "intel-rapl-mmio"
  std::string package;  // P, the digits
};

std::optional<ZoneName> parse_zone_name(std::string_view name) {
  auto digits = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  ZoneName z;
  for (std::string_view prefix : {"intel-rapl-mmio:", "intel-rapl:"})
    if (name.substr(0, prefix.size()) == prefix) {
      z.prefix = std::string(prefix.substr(0, prefix.size() - 1));
      name.remove_prefix(prefix.size());
      break;
    }
  if (z.prefix.empty()) return std::nullopt;
  std::string_view package = name.substr(0, name.find(':'));
  std::string_view rest = name.substr(package.size());
  if (!digits(package)) return std::nullopt;
  if (!rest.empty() && !digits(rest.substr(1))) return std::nullopt;  // rest is ":S"
  z.package = std::string(package);
  return z;
}

std::string domain_of(const std::string& name) {
  if (name.rfind("package", 0) == 0) return "package";
  if (name == "dram" || name == "core" || name == "uncore" || name == "psys") return name;
  return "";
}

// A counter meter over one zone's energy_uj; cumulative between reads up to half its wrap at 1 kW.
class RaplMeter final : public Meter, public detail::CumulativeBetweenReads {
 public:
  RaplMeter(const RaplZone& z, std::shared_ptr<FileReader> reader)
      : zone_(z), reader_(std::move(reader)), counter_(1e-6, z.max_range_uj) {
    info_.id = "rapl:" + z.zone;
    info_.component = z.domain == "dram" ? Component::dram : Component::cpu;
    info_.device_name = z.label;
    info_.method = Method::counter;
    info_.detail = "RAPL energy counter " + z.energy_path + " (uJ, wraps at " + std::to_string(z.max_range_uj) + ")";
    if (z.domain == "psys") {
      info_.also_covers = {Component::dram};
      info_.coverage = std::string(kPsysCoverage);
    }
    // Read often enough to see at most one wrap even at 1 kW, and at least once a second.
    double range_j = static_cast<double>(z.max_range_uj) * 1e-6;
    info_.poll_period_s = z.max_range_uj ? std::clamp(range_j / 1000.0 / 2.0, 0.01, 1.0) : 1.0;
  }
  const MeterInfo& info() const override { return info_; }
  // The same bound as the period's, unclamped: at most one wrap between reads even at 1 kW. A zone
  // without a known range takes a decrease as a reset, whose energy is lost: read at its period.
  double longest_period_s() const override {
    return zone_.max_range_uj ? static_cast<double>(zone_.max_range_uj) * 1e-6 / 1000.0 / 2.0 : 0.0;
  }
  void open(double) override { (void)read(0); }
  MeterReading read(double) override {
    MeterReading r;
    ReadResult res = reader_->read(zone_.energy_path);
    if (!res.text) {
      r.ok = false;
      r.lost = res.error == ENOENT || res.error == ENODEV;
      r.error = zone_.energy_path + ": " + read_error_text(res);
      r.joules = counter_.joules();
      return r;
    }
    auto raw = parse_u64(*res.text);
    if (!raw) {
      r.ok = false;
      r.error = zone_.energy_path + ": not a counter value: '" + res.text->substr(0, 40) + "'";
      r.joules = counter_.joules();
      return r;
    }
    r.joules = counter_.update(*raw);
    return r;
  }

 private:
  RaplZone zone_;
  std::shared_ptr<FileReader> reader_;
  WrappingCounter counter_;
  MeterInfo info_;
};

std::string permission_fix(const std::string& path) {
  return "permission denied on " + path +
         " (energy_uj is root-only since Linux 5.10): run `sudo chmod o+r " + path +
         "`, add the udev rule `" + kRaplUdevRule +
         "`, or run `epochwatt devices --fix-permissions` as root";
}

// The zones under a powercap root, by zone name, each at the first path it was seen (the flat
// symlink and the nested directory of one zone are the same zone; the zones directly in `dir` are
// taken first, so a flat root keeps its flat paths). Zones nest one level (a package's dram, core
// and uncore subzones live inside it), and the control-type folders intel-rapl / intel-rapl-mmio
// hold the top zones; both are walked, so every subzone is found whichever of these levels the
// root is.
void collect_zones(const FileReader& reader, const std::string& dir, int depth, std::map<std::string, std::string>& out) {
  int err = 0;
  std::vector<std::string> names = reader.list(dir, &err), zone_dirs;
  for (const auto& name : names)
    if (parse_zone_name(name)) {
      out.emplace(name, dir + "/" + name);
      zone_dirs.push_back(dir + "/" + name);
    }
  if (depth == 0) return;
  for (const auto& z : zone_dirs) collect_zones(reader, z, depth - 1, out);
  if (depth > 1)
    for (const auto& name : names)
      if (name == "intel-rapl" || name == "intel-rapl-mmio") collect_zones(reader, dir + "/" + name, 1, out);
}

std::string parent_dir(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
}

std::string base_name(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

}  // namespace

PowercapZones locate_powercap_zones(const FileReader& reader, const std::string& root) {
  PowercapZones out;
  // One level too low: a single zone, /sys/class/powercap/intel-rapl:0 (its subzones are inside).
  std::string name = base_name(root);
  if (parse_zone_name(name) && reader.read(root + "/name").text) {
    out.zones.emplace(name, root);
    collect_zones(reader, root, 1, out.zones);
    out.note = root + " is a single RAPL zone: only it and its subzones are measured (give " + parent_dir(root) +
               " for every package)";
    return out;
  }
  collect_zones(reader, root, 2, out.zones);
  if (!out.zones.empty()) return out;
  // One level too high: /sys/class or /sys/devices/virtual, which hold powercap/.
  collect_zones(reader, root + "/powercap", 2, out.zones);
  if (!out.zones.empty()) {
    out.note = root + " is one level above the powercap folder; read " + root + "/powercap";
    return out;
  }
  int err = 0;
  (void)reader.list(root, &err);
  out.reason = "no powercap zones under " + root + (err ? std::string(" (") + std::strerror(err) + ")" : std::string()) +
               (root == RaplConfig{}.root
                    ? std::string(": RAPL is not exposed here (virtual machines and containers usually hide it; on "
                                  "bare metal load the intel_rapl_msr module)")
                    : std::string(": give the folder that holds the intel-rapl:N zones (normally /sys/class/powercap)"));
  return out;
}

RaplDiscovery find_rapl_zones(const RaplConfig& cfg) {
  RaplDiscovery out;
  PowercapZones located = locate_powercap_zones(*cfg.reader, cfg.root);
  if (located.zones.empty()) {
    out.reason = located.reason;
    return out;
  }
  if (!located.note.empty()) out.notes.push_back(located.note);
  std::vector<std::string> want = cfg.domains;
  auto wants = [&](const std::string& d) { return std::find(want.begin(), want.end(), d) != want.end(); };
  if (wants("psys") && want.size() > 1) {
    out.notes.push_back("psys covers the whole platform; other domains dropped so nothing is counted twice");
    want = {"psys"};
  }
  if (wants("package") && (wants("core") || wants("uncore"))) {
    out.notes.push_back("core and uncore are parts of package; dropped so nothing is counted twice");
    want.erase(std::remove_if(want.begin(), want.end(), [](const std::string& d) { return d == "core" || d == "uncore"; }), want.end());
  }

  struct Candidate {
    RaplZone zone;
    bool mmio;
    bool readable;
    int read_error;
  };
  std::map<std::string, std::vector<Candidate>> by_key;  // "domain:package" -> candidates
  std::map<std::string, int> package_of_zone;            // "intel-rapl:0" -> 0 from "package-0"
  for (const auto& [name, dir] : located.zones) {
    std::optional<ZoneName> m = parse_zone_name(name);
    auto text = cfg.reader->read(dir + "/name").text;
    if (!text) continue;
    std::string zname = *text;
    while (!zname.empty() && (zname.back() == '\n' || zname.back() == ' ')) zname.pop_back();
    std::string domain = domain_of(zname);
    if (domain.empty()) {
      out.notes.push_back(name + ": unknown domain '" + zname + "', skipped");
      continue;
    }
    std::string top = m->prefix + ":" + m->package;
    int package = std::stoi(m->package);
    if (domain == "package") {
      auto dash = zname.find('-');
      if (dash != std::string::npos) package = std::atoi(zname.c_str() + dash + 1);
      package_of_zone[top] = package;
    }
    if (!wants(domain)) continue;
    Candidate c;
    c.mmio = m->prefix == "intel-rapl-mmio";
    c.zone.zone = name;
    c.zone.domain = domain;
    c.zone.package = package;
    c.zone.energy_path = dir + "/energy_uj";
    auto rr = cfg.reader->read(c.zone.energy_path);
    c.readable = rr.text && parse_u64(*rr.text).has_value();
    c.read_error = rr.text ? 0 : rr.error;
    if (auto range = cfg.reader->read(dir + "/max_energy_range_uj").text)
      c.zone.max_range_uj = parse_u64(*range).value_or(0);
    by_key[domain + ":" + top].push_back(c);
  }
  // Sub-zones (dram under a package) take the package number of their parent.
  std::map<std::string, std::vector<Candidate>> by_domain_package;
  for (auto& [key, cands] : by_key)
    for (auto& c : cands) {
      std::optional<ZoneName> m = parse_zone_name(c.zone.zone);  // matched above
      std::string top = m->prefix + ":" + m->package;
      if (c.zone.domain != "package" && package_of_zone.count(top)) c.zone.package = package_of_zone[top];
      by_domain_package[c.zone.domain + ":" + std::to_string(c.zone.package)].push_back(c);
    }
  std::vector<std::string> denied;
  for (auto& [key, cands] : by_domain_package) {
    // Prefer the MSR zone over its MMIO twin; either must be readable.
    std::stable_sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) { return !a.mmio && b.mmio; });
    const Candidate* pick = nullptr;
    for (const auto& c : cands)
      if (c.readable) {
        pick = &c;
        break;
      }
    for (const auto& c : cands) {
      if (&c == pick) continue;
      if (pick) out.notes.push_back(c.zone.zone + ": same domain as " + pick->zone.zone + ", not counted twice");
      else if (c.read_error == EACCES || c.read_error == EPERM) denied.push_back(c.zone.energy_path);
      else out.notes.push_back(coverage_note(c.zone.zone + ": energy_uj unreadable (" +
                                             (c.read_error ? std::strerror(c.read_error) : "garbage") +
                                             "); the total leaves this zone out"));
    }
    if (!pick) continue;
    RaplZone z = pick->zone;
    if (z.domain == "package") z.label = "cpu:" + std::to_string(z.package);
    else if (z.domain == "psys") z.label = "psys";
    else z.label = z.domain + ":" + std::to_string(z.package);
    out.zones.push_back(z);
  }
  std::sort(out.zones.begin(), out.zones.end(), [](const RaplZone& a, const RaplZone& b) {
    return std::tie(a.package, a.domain) < std::tie(b.package, b.domain);
  });
  if (out.zones.empty()) {
    if (!denied.empty()) out.reason = permission_fix(denied.front());
    else out.reason = "no readable package or dram zone under " + cfg.root;
  } else if (!denied.empty()) {
    out.notes.push_back(coverage_note(permission_fix(denied.front()) + " (until then the total leaves " +
                                      std::to_string(denied.size()) + " unreadable zone(s) out)"));
  }
  return out;
}

std::shared_ptr<Meter> make_rapl_meter(const RaplZone& zone, std::shared_ptr<FileReader> reader) {
  return std::make_shared<RaplMeter>(zone, std::move(reader));
}

Discovery discover_rapl(const RaplConfig& cfg) {
  Discovery d;
  RaplDiscovery found = find_rapl_zones(cfg);
  for (const auto& z : found.zones) d.meters.push_back(make_rapl_meter(z, cfg.reader));
  d.reason = found.reason;
  d.notes = found.notes;
  return d;
}

std::vector<std::string> fix_rapl_permissions(const std::string& root) {
  std::vector<std::string> lines;
  PowercapZones located = locate_powercap_zones(*real_file_reader(), root);
  if (located.zones.empty()) lines.push_back(located.reason);
  for (const auto& [name, dir] : located.zones) {
    std::string path = dir + "/energy_uj";
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      lines.push_back(path + ": " + std::strerror(errno));
      continue;
    }
    if (::chmod(path.c_str(), st.st_mode | S_IRGRP | S_IROTH) != 0)
      lines.push_back(path + ": chmod failed: " + std::strerror(errno) + " (run as root)");
    else
      lines.push_back(path + ": now readable by all users (until reboot; add the udev rule to keep it)");
  }
  return lines;
}

}  // namespace epochwatt::meters
