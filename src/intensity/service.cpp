#include "intensity/service.hpp"

#include <cctype>
#include <algorithm>
#include <cstdlib>

#include "core/format.hpp"

namespace epochwatt::detail {
namespace {

class FixedProvider final : public IntensityProvider {
 public:
  explicit FixedProvider(double v) : v_(v) {}
  std::string name() const override { return "fixed"; }
  std::optional<IntensityValue> current(const Location&, std::string*) override {
    return IntensityValue{v_, "fixed", "fixed value given by option", false, false};
  }

 private:
  double v_;
};

class EmbeddedTableProvider final : public IntensityProvider {
 public:
  std::string name() const override { return "embedded-table"; }
  std::optional<IntensityValue> current(const Location& where, std::string* why) override {
    if (where.country.empty()) {
      if (why) *why = "no location";
      return std::nullopt;
    }
    auto row = embedded_country_intensity(where.country);
    if (!row) {
      if (why) *why = "country '" + where.country + "' is not in the embedded table";
      return std::nullopt;
    }
    return IntensityValue{row->g_per_kwh, "embedded-table",
                          "annual average of " + std::string(row->country) + " in " +
                              std::to_string(row->year) +
                              " (Ember 2025 and Energy Institute 2025, via Our World in Data, CC BY 4.0)",
                          false, false};
  }
};

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace
}  // namespace epochwatt::detail

namespace epochwatt {
std::optional<double> IntensityForecast::mean(std::chrono::system_clock::time_point from,
                                              std::chrono::system_clock::time_point to) const {
  double weighted = 0, covered = 0;
  for (const auto& p : points) {
    auto p_end = p.start + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                               std::chrono::duration<double>(p.period_s));
    auto a = std::max(from, p.start);
    auto b = std::min(to, p_end);
    if (b <= a) continue;
    double s = std::chrono::duration<double>(b - a).count();
    weighted += s * p.g_per_kwh;
    covered += s;
  }
  if (covered <= 0) return std::nullopt;
  return weighted / covered;
}
}  // namespace epochwatt

namespace epochwatt::detail {

std::shared_ptr<IntensityProvider> make_fixed_provider(double g) { return std::make_shared<FixedProvider>(g); }
std::shared_ptr<IntensityProvider> make_embedded_table_provider() { return std::make_shared<EmbeddedTableProvider>(); }

Location resolve_location(const Options& o) {
  Location loc;
  if (!o.country.empty()) {
    loc.country = upper(o.country);
    loc.rule = "option";
  } else if (const char* env = std::getenv("EPOCHWATT_COUNTRY"); env && *env) {
    loc.country = upper(env);
    loc.rule = "env:EPOCHWATT_COUNTRY";
  }
  return loc;
}

IntensityService::IntensityService(const Options& o) : location_(resolve_location(o)) {
  if (o.intensity_g_per_kwh) chain_.push_back(make_fixed_provider(*o.intensity_g_per_kwh));
  for (const auto& p : o.intensity_providers)
    if (p) chain_.push_back(p);
  chain_.push_back(make_embedded_table_provider());
}

IntensityValue IntensityService::current() {
  for (const auto& p : chain_) {
    std::string why;
    if (auto v = p->current(location_, &why)) {
      if (!told_choice_) {
        told_choice_ = true;
        if (v->source == "fixed")
          notes_.push_back({false, "Using fixed carbon intensity of " + fixed(v->g_per_kwh, 2) + " gCO2eq/kWh given by option."});
        else if (v->source == "embedded-table")
          notes_.push_back({true, "No carbon intensity provider specified. Using average carbon intensity for " +
                                      location_.country + ": " + fixed(v->g_per_kwh, 2) + " gCO2eq/kWh."});
        else
          notes_.push_back({false, "Using intensity provider: " + p->name() + "."});
      }
      return *v;
    }
    if (p->name() == "embedded-table" && !location_.country.empty() && !told_choice_)
      notes_.push_back({true, "Country '" + location_.country + "' is not in the embedded intensity table; using the global average."});
    else if (p->name() != "embedded-table" && !why.empty())
      notes_.push_back({true, p->name() + ": " + why + "; trying the next source."});
  }
  if (!told_choice_) {
    told_choice_ = true;
    if (location_.country.empty())
      notes_.push_back({true, "No carbon intensity provider specified and no location detected. Defaulting to global average carbon intensity for 2024: 445.00 gCO2eq/kWh."});
  }
  return IntensityValue{kWorldAverageGPerKwh, "world-average",
                        "2024 world average (IEA, Electricity 2025, Emissions chapter)", false, false};
}

IntensityValue IntensityService::for_window(std::chrono::system_clock::time_point from, double duration_s) {
  for (const auto& p : chain_) {
    std::string why;
    if (auto v = p->forecast(location_, from, duration_s, &why)) {
      v->forecast = true;
      return *v;
    }
    // The first source that answers for the present decides; a forecast only from it or above.
    if (p->current(location_, nullptr)) break;
  }
  return current();
}

std::vector<IntensityNote> IntensityService::take_notes() {
  std::vector<IntensityNote> out;
  out.swap(notes_);
  return out;
}

}  // namespace epochwatt::detail
