#include "meters/hwmon/hwmon.hpp"

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <limits>
#include <string_view>

#include "core/linear_meter.hpp"

namespace epochwatt::meters {
namespace {

// A DRM card directory: "card" and one or more ASCII digits (not card0-DP-1). Matched by hand: at
// -O3 with -fsanitize=address,undefined g++ 12 warns (-Wmaybe-uninitialized, a false positive
// inside <regex>, GCC bug 105616) on any std::regex built here.
bool is_card_name(std::string_view name) {
  constexpr std::string_view prefix = "card";
  if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return false;
  name.remove_prefix(prefix.size());
  return std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

class HwmonMeter final : public Meter, public detail::CumulativeBetweenReads {
 public:
  HwmonMeter(HwmonGpu gpu, std::shared_ptr<FileReader> reader)
      : gpu_(std::move(gpu)), reader_(std::move(reader)), counter_(1e-6, 0) {
    info_.id = "hwmon:" + gpu_.card;
    info_.component = Component::gpu;
    info_.device_name = gpu_.label;
    info_.method = gpu_.counter ? Method::counter : Method::integrated_power;
    info_.detail = gpu_.dir + "/" + gpu_.file + (gpu_.counter ? " (energy counter, uJ)" : " (power in uW, integrated)");
    // Counters need few reads; power (a driver-side average) is integrated from frequent reads.
    info_.poll_period_s = gpu_.counter ? 1.0 : 0.1;
    if (gpu_.apu) {
      info_.also_covers = {Component::cpu};
      info_.coverage = std::string(kApuCoverage);
    }
  }
  const MeterInfo& info() const override { return info_; }
  // energy*_input: microjoules in the hwmon core's `long`, 64-bit on the 64-bit kernels these
  // GPUs run on (~580,000 years to wrap at 1 kW); power*_average is integrated from its samples.
  double longest_period_s() const override {
    return gpu_.counter ? std::numeric_limits<double>::infinity() : 0.0;
  }
  void open(double t) override { (void)read(t); }
  MeterReading read(double t) override {
    MeterReading r;
    std::string path = gpu_.dir + "/" + gpu_.file;
    ReadResult res = reader_->read(path);
    auto value = res.text ? parse_u64(*res.text) : std::nullopt;
    if (!value) {
      r.ok = false;
      r.lost = !res.text && (res.error == ENOENT || res.error == ENODEV);
      r.error = res.text ? path + ": not a number: '" + res.text->substr(0, 40) + "'" : path + ": " + read_error_text(res);
      r.joules = gpu_.counter ? counter_.joules() : integrator_.joules();
      return r;
    }
    r.joules = gpu_.counter ? counter_.update(*value) : integrator_.add(t, static_cast<double>(*value) * 1e-6);
    return r;
  }

 private:
  HwmonGpu gpu_;
  std::shared_ptr<FileReader> reader_;
  WrappingCounter counter_;
  PowerIntegrator integrator_;
  MeterInfo info_;
};

bool readable_number(const FileReader& reader, const std::string& path) {
  auto text = reader.read(path).text;
  return text && parse_u64(*text).has_value();
}

}  // namespace

HwmonDiscovery find_hwmon_gpus(const HwmonConfig& cfg) {
  HwmonDiscovery out;
  int err = 0;
  std::string drm_root = cfg.drm_root;
  while (drm_root.size() > 1 && drm_root.back() == '/') drm_root.pop_back();
  auto has_card = [](const std::vector<std::string>& names) { return std::any_of(names.begin(), names.end(), is_card_name); };
  std::vector<std::string> cards = cfg.reader->list(drm_root, &err);
  std::vector<std::pair<std::string, std::string>> card_dirs;  // (card, its directory)
  std::string base = drm_root.substr(drm_root.rfind('/') + 1);
  if (!has_card(cards)) {
    int up_err = 0;
    std::vector<std::string> below = cfg.reader->list(drm_root + "/drm", &up_err);
    if (has_card(below)) {
      // One level too high: /sys/class, which holds drm/.
      out.notes.push_back(drm_root + " is one level above the drm folder; read " + drm_root + "/drm");
      drm_root += "/drm";
      cards = std::move(below);
      err = 0;
    } else if (is_card_name(base) && std::find(cards.begin(), cards.end(), "device") != cards.end()) {
      // One level too low: one card, /sys/class/drm/card0.
      out.notes.push_back(drm_root + " is a single card: only it is measured (give " +
                          drm_root.substr(0, drm_root.rfind('/')) + " for every GPU)");
      card_dirs.emplace_back(base, drm_root);
      cards.clear();
    } else if (std::any_of(cards.begin(), cards.end(), [](const std::string& n) { return n.rfind("hwmon", 0) == 0; })) {
      out.reason = drm_root + " looks like the hwmon class folder: give the drm folder that holds the cardN "
                              "entries (normally /sys/class/drm)";
      return out;
    }
  }
  for (const auto& card : cards)
    if (is_card_name(card)) card_dirs.emplace_back(card, drm_root + "/" + card);
  for (const auto& [card, card_dir] : card_dirs) {
    std::string hwmon_root = card_dir + "/device/hwmon";
    int herr = 0;
    for (const auto& h : cfg.reader->list(hwmon_root, &herr)) {
      std::string dir = hwmon_root + "/" + h;
      auto name = cfg.reader->read(dir + "/name").text;
      if (!name) continue;
      std::string driver = trimmed(*name);
      if (driver != "amdgpu" && driver != "i915" && driver != "xe") {
        out.notes.push_back(coverage_note(card + ": hwmon driver '" + driver + "' is not a supported GPU driver"));
        continue;
      }
      HwmonGpu g{card, driver, dir, "", true, driver + " " + card};
      if (readable_number(*cfg.reader, dir + "/energy1_input")) {
        g.file = "energy1_input";
      } else if (driver == "amdgpu" && readable_number(*cfg.reader, dir + "/power1_average")) {
        g.file = "power1_average";
        g.counter = false;
      } else if (driver == "amdgpu" && readable_number(*cfg.reader, dir + "/power1_input")) {
        g.file = "power1_input";
        g.counter = false;
      } else {
        out.notes.push_back(coverage_note(card + " (" + driver + "): no readable energy1_input" +
                                          (driver == "amdgpu" ? ", power1_average or power1_input" : "") + " in " +
                                          dir + "; the total leaves it out"));
        continue;
      }
      // amdgpu shows in1 (vddnb) on APUs only (amdgpu_pm.c: "only APUs have vddnb").
      g.apu = driver == "amdgpu" && readable_number(*cfg.reader, dir + "/in1_input");
      if (g.apu) g.label = driver + " " + card + " (APU)";
      out.gpus.push_back(g);
    }
  }
  if (out.gpus.empty()) {
    if (err) out.reason = "no DRM devices under " + cfg.drm_root + " (" + std::strerror(err) + ")";
    else if (card_dirs.empty())
      out.reason = "no DRM card (cardN) under " + cfg.drm_root +
                   (cfg.drm_root == HwmonConfig{}.drm_root
                        ? std::string(": no GPU with a kernel driver here")
                        : std::string(": give the drm folder that holds the cardN entries (normally /sys/class/drm)"));
    else out.reason = "no AMD or Intel GPU with a hwmon energy or power file under " + cfg.drm_root;
    for (const auto& n : out.notes) out.reason += "; " + n.text;
  }
  return out;
}

Discovery discover_hwmon(const HwmonConfig& cfg) {
  Discovery d;
  HwmonDiscovery found = find_hwmon_gpus(cfg);
  for (const auto& g : found.gpus) d.meters.push_back(std::make_shared<HwmonMeter>(g, cfg.reader));
  d.reason = found.reason;
  d.notes = found.notes;
  return d;
}

}  // namespace epochwatt::meters
