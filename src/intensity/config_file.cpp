#include "intensity/config_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/bounded_file.hpp"
#include "epochwatt/limits.hpp"
#include "intensity/providers/cloud_regions.hpp"

namespace epochwatt::detail {
namespace {

constexpr off_t kMaxConfigBytes = 1024 * 1024;

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}
std::string upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

// The whole text as a number; from_chars, so no locale can change what is read.
std::optional<double> parse_number(const std::string& text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int> parse_int(const std::string& text) {
  int v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end) return std::nullopt;
  return v;
}

// Single-quoted for the shell when it holds anything but plain path characters.
std::string shell_word(const std::string& s) {
  bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::strchr("/._-+:@%,=", c) != nullptr;
  });
  if (plain) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Sets one location field from text; returns a reason when the text is unusable (field untouched).
// Field names are the config file's; lat and lon are set one at a time (the pair is checked after).
std::optional<std::string> set_location_field(Location& loc, const std::string& field, const std::string& value) {
  if (field == "country") {
    if (value.size() != 2 || !std::isalpha(static_cast<unsigned char>(value[0])) ||
        !std::isalpha(static_cast<unsigned char>(value[1])))
      return "is not an ISO 3166-1 alpha-2 country code such as DK";
    loc.country = upper(value);
  } else if (field == "zone") {
    if (value.find_first_of(" \t") != std::string::npos) return "is not an Electricity Maps zone id such as DK-DK1";
    loc.zone = value;
  } else if (field == "postcode") {
    loc.postcode = upper(value);
  } else if (field == "region_id" || field == "gb_region_id") {
    auto id = parse_int(value);
    if (!id || *id < 1 || *id > 17) return "is not a carbonintensity.org.uk region id from 1 to 17";
    loc.gb_region_id = *id;
  } else if (field == "lat") {
    auto v = parse_number(value);
    if (!v || *v < -90 || *v > 90) return "is not a latitude from -90 to 90";
    loc.lat = *v;
  } else if (field == "lon") {
    auto v = parse_number(value);
    if (!v || *v < -180 || *v > 180) return "is not a longitude from -180 to 180";
    loc.lon = *v;
  } else if (field == "cloud") {
    auto colon = value.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == value.size())
      return "is not a cloud region of the form provider:region, such as gcp:europe-west1";
    if (!cloud_region_intensity(value))
      return "is not a cloud region in the embedded table (data/cloud-region-intensity.csv)";
    loc.cloud = value;
  }
  return std::nullopt;
}

bool is_location_field(const std::string& f) {
  return f == "country" || f == "zone" || f == "postcode" || f == "region_id" || f == "gb_region_id" || f == "lat" ||
         f == "lon" || f == "cloud";
}

std::optional<bool> parse_bool(const std::string& v) {
  std::string l = lower(v);
  if (l == "true" || l == "yes" || l == "on" || l == "1") return true;
  if (l == "false" || l == "no" || l == "off" || l == "0") return false;
  return std::nullopt;
}

// "name = value" split and unquoted. Returns false (with *reason) for a malformed line.
bool split_assignment(const std::string& line, std::string* name, std::string* value, std::string* reason) {
  auto eq = line.find('=');
  if (eq == std::string::npos) {
    *reason = "malformed line (expected 'name = value' or '[section]')";
    return false;
  }
  *name = lower(trim(line.substr(0, eq)));
  if (name->empty()) {
    *reason = "malformed line (no name before '=')";
    return false;
  }
  std::string rest = trim(line.substr(eq + 1));
  if (!rest.empty() && (rest[0] == '"' || rest[0] == '\'')) {
    auto close = rest.find(rest[0], 1);
    if (close == std::string::npos) {
      *reason = "malformed line (unterminated quote)";
      return false;
    }
    std::string after = trim(rest.substr(close + 1));
    if (!after.empty() && after[0] != '#' && after[0] != ';') {
      *reason = "malformed line (text after the closing quote)";
      return false;
    }
    *value = rest.substr(1, close - 1);
    return true;
  }
  // Unquoted: a comment starts at '#' or ';' preceded by white space.
  for (std::size_t i = 1; i < rest.size(); ++i)
    if ((rest[i] == '#' || rest[i] == ';') && (rest[i - 1] == ' ' || rest[i - 1] == '\t')) {
      rest = trim(rest.substr(0, i));
      break;
    }
  *value = rest;
  return true;
}

void parse_config_text(const std::string& text, ConfigFile& c) {
  enum class Section { none, location, intensity, keys, unknown } section = Section::none;
  std::map<std::string, int> seen;  // "section.name" -> line, for repeats
  int lat_line = 0, lon_line = 0;
  std::size_t start = 0;
  int line_no = 0;
  auto warn = [&](const std::string& what) { c.warnings.push_back(c.path + ":" + std::to_string(line_no) + ": " + what); };
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = trim(text.substr(start, nl - start));
    start = nl + 1;
    ++line_no;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      auto close = line.find(']');
      std::string after = close == std::string::npos ? "" : trim(line.substr(close + 1));
      if (close == std::string::npos || (!after.empty() && after[0] != '#' && after[0] != ';')) {
        warn("malformed section header (expected '[name]'); skipped");
        section = Section::unknown;
        continue;
      }
      std::string name = lower(trim(line.substr(1, close - 1)));
      if (name == "location") section = Section::location;
      else if (name == "intensity") section = Section::intensity;
      else if (name == "keys") section = Section::keys;
      else {
        warn("unknown section [" + name + "] (known: [location], [intensity], [keys]); its lines are ignored");
        section = Section::unknown;
      }
      continue;
    }
    std::string name, value, reason;
    if (!split_assignment(line, &name, &value, &reason)) {
      warn(reason + "; skipped");  // never the line itself: it may hold a key
      continue;
    }
    if (section == Section::unknown) continue;
    if (section == Section::none) {
      warn("a setting outside a section ([location], [intensity] or [keys]); skipped");
      continue;
    }
    if (section == Section::keys) {
      const auto& ids = keyed_provider_ids();
      if (std::find(ids.begin(), ids.end(), name) == ids.end()) {
        // The name is not repeated: a key pasted on the wrong side of '=' would be shown.
        warn("unknown provider id in [keys] (known: electricitymaps); ignored");
        continue;
      }
      if (value.empty()) {
        warn("empty key for '" + name + "' in [keys]; ignored");
        continue;
      }
      if (auto [it, fresh] = seen.emplace("keys." + name, line_no); !fresh)
        warn("'" + name + "' repeated in [keys]; the last one is used");
      c.keys[name] = value;
      continue;
    }
    const char* section_name = section == Section::location ? "location" : "intensity";
    bool known = section == Section::location
                     ? is_location_field(name)
                     : (name == "offline" || name == "providers" || name == "refresh");
    if (!known) {
      warn("unknown name '" + name + "' in [" + section_name + "]; ignored");
      continue;
    }
    if (auto [it, fresh] = seen.emplace(std::string(section_name) + "." + name, line_no); !fresh)
      warn("'" + name + "' repeated in [" + section_name + "]; the last one is used");
    if (value.empty()) continue;  // "name =" leaves the setting unset
    if (section == Section::location) {
      if (auto bad = set_location_field(c.location, name, value)) {
        warn("'" + name + "' = '" + value + "' " + *bad + "; ignored");
        continue;
      }
      if (name == "lat") lat_line = line_no;
      if (name == "lon") lon_line = line_no;
    } else if (name == "offline") {
      if (auto b = parse_bool(value)) c.offline = *b;
      else warn("'offline' = '" + value + "' is not true or false; ignored");
    } else if (name == "providers") {
      c.providers.clear();
      std::size_t from = 0;
      while (from <= value.size()) {
        auto comma = value.find(',', from);
        if (comma == std::string::npos) comma = value.size();
        std::string p = lower(trim(value.substr(from, comma - from)));
        if (!p.empty()) c.providers.push_back(p);
        from = comma + 1;
      }
    } else if (name == "refresh") {
      auto v = parse_number(value);
      if (v && *v >= 60 && *v <= limits::kMaxIntervalS) c.refresh_s = *v;
      else warn("'refresh' = '" + value + "' is not a number of seconds from 60 to 86400; ignored");
    }
  }
  if (c.location.lat.has_value() != c.location.lon.has_value()) {
    line_no = c.location.lat ? lat_line : lon_line;
    warn(std::string(c.location.lat ? "'lat' without 'lon'" : "'lon' without 'lat'") +
         " in [location]; the coordinate is ignored");
    c.location.lat.reset();
    c.location.lon.reset();
  }
  if (c.location.located()) c.location.rule = "config:" + c.path;
}

}  // namespace

std::string default_config_path() {
  if (const char* p = std::getenv("EPOCHWATT_CONFIG"); p && *p) return p;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && xdg[0] == '/')
    return std::string(xdg) + "/epochwatt/config.ini";
  if (const char* home = std::getenv("HOME"); home && home[0] == '/') return std::string(home) + "/.config/epochwatt/config.ini";
  return {};
}

const std::vector<std::string>& keyed_provider_ids() {
  static const std::vector<std::string> ids{"electricitymaps"};
  return ids;
}

std::string api_key_env_name(const std::string& provider_id) {
  std::string name = "EPOCHWATT_";
  for (char c : upper(provider_id)) name += ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c : '_';
  return name + "_TOKEN";
}

ConfigFile load_config_file(const std::string& path_in) {
  ConfigFile c;
  c.path = path_in.empty() ? default_config_path() : path_in;
  if (c.path.empty()) return c;
  BoundedFile f = read_bounded_file(c.path, kMaxConfigBytes, /*no_follow=*/false);
  switch (f.status) {
    case BoundedFile::Status::ok:
      break;
    case BoundedFile::Status::absent:
      return c;
    case BoundedFile::Status::open_failed:
      c.warnings.push_back("cannot read the configuration file " + c.path + ": " + std::strerror(f.error) + "; ignored");
      return c;
    case BoundedFile::Status::not_regular:
    case BoundedFile::Status::read_failed:
      c.warnings.push_back("the configuration file " + c.path + " is not a readable regular file of at most 1 MiB; ignored");
      return c;
  }
  std::string& text = f.text;
  const struct stat& st = f.st;
  c.found = true;
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // a UTF-8 byte order mark from an editor
  parse_config_text(text, c);
  if (!c.keys.empty()) {
    std::string fix = "chmod 600 " + shell_word(c.path);
    if (st.st_uid != ::geteuid()) {
      c.keys.clear();
      c.warnings.push_back(c.path + ": API keys ignored: the file belongs to uid " + std::to_string(st.st_uid) +
                           ", not to you (uid " + std::to_string(::geteuid()) + "); fix: chown " +
                           std::to_string(::geteuid()) + " " + shell_word(c.path) + " && " + fix);
    } else if ((st.st_mode & 077) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
      c.keys.clear();
      c.warnings.push_back(c.path + ": API keys ignored: mode " + mode +
                           " lets group or others read or write the file; fix: " + fix);
    }
  }
  return c;
}

std::vector<std::string> ApiKeys::secrets() const {
  std::vector<std::string> out;
  for (const auto& [id, key] : by_provider) out.push_back(key);
  return out;
}

ApiKeys load_api_keys(const ConfigFile& config) {
  ApiKeys k;
  for (const auto& [id, key] : config.keys) {
    k.by_provider[id] = key;
    k.origin[id] = "config:" + config.path;
  }
  for (const auto& id : keyed_provider_ids()) {
    std::string var = api_key_env_name(id);
    const char* v = std::getenv(var.c_str());
    std::string key = v ? trim(v) : std::string();
    if (key.empty()) continue;
    k.by_provider[id] = key;
    k.origin[id] = "env:" + var;
  }
  return k;
}

Location location_from_env(std::vector<std::string>* warnings) {
  static const std::pair<const char*, const char*> kVars[] = {
      {"EPOCHWATT_COUNTRY", "country"}, {"EPOCHWATT_ZONE", "zone"}, {"EPOCHWATT_POSTCODE", "postcode"},
      {"EPOCHWATT_GB_REGION_ID", "region_id"}, {"EPOCHWATT_LAT", "lat"}, {"EPOCHWATT_LON", "lon"},
      {"EPOCHWATT_CLOUD", "cloud"}};
  Location loc;
  std::vector<std::string> used;
  for (const auto& [var, field] : kVars) {
    const char* raw = std::getenv(var);
    std::string value = raw ? trim(raw) : std::string();
    if (value.empty()) continue;
    if (auto bad = set_location_field(loc, field, value)) {
      if (warnings) warnings->push_back(std::string(var) + "='" + value + "' " + *bad + "; ignored");
      continue;
    }
    used.push_back(var);
  }
  if (loc.lat.has_value() != loc.lon.has_value()) {
    if (warnings)
      warnings->push_back(loc.lat ? "EPOCHWATT_LAT without EPOCHWATT_LON; the coordinate is ignored"
                                  : "EPOCHWATT_LON without EPOCHWATT_LAT; the coordinate is ignored");
    std::erase(used, std::string(loc.lat ? "EPOCHWATT_LAT" : "EPOCHWATT_LON"));
    loc.lat.reset();
    loc.lon.reset();
  }
  if (!used.empty()) {
    loc.rule = "env:";
    for (std::size_t i = 0; i < used.size(); ++i) loc.rule += (i ? "," : "") + used[i];
  }
  return loc;
}

Location choose_location(const Location& from_options, const Location& from_env, const Location& from_config) {
  for (const Location* l : {&from_options, &from_env, &from_config})
    if (l->located()) return *l;
  return Location{};
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  std::vector<std::string> sorted;
  for (const auto& s : secrets)
    if (s.size() >= 4) sorted.push_back(s);
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  if (sorted.empty()) return text;
  // One pass, longest secret first at each position, so a mark is never searched again.
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    auto hit = std::find_if(sorted.begin(), sorted.end(), [&](const std::string& s) { return text.compare(i, s.size(), s) == 0; });
    if (hit != sorted.end()) {
      out += "[redacted]";
      i += hit->size();
    } else {
      out += text[i++];
    }
  }
  return out;
}

}  // namespace epochwatt::detail
