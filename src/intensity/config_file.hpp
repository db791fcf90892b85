// The configuration file (INI; docs/intensity.md, "Configuration file"), API keys from the
// environment or that file, the location from environment variables, and redaction of secrets.
//
//   # comment            ; comment
//   [location]
//   country = DK         zone = DK-DK1       postcode = RG10     region_id = 4
//   lat = 55.7           lon = 12.6          cloud = gcp:europe-west1
//   [intensity]
//   offline = true       providers = electricitymaps, carbonintensity.org.uk      refresh = 900
//   [keys]
//   electricitymaps = "..."
//
// One `key = value` per line; names are case-insensitive; a value may be quoted ("..." or '...',
// no escapes); outside quotes, " #" or " ;" starts a comment. Problems are warning lines naming
// PATH:LINE, and the line is skipped; no warning ever contains a value from [keys].
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "epochwatt/intensity.hpp"

namespace epochwatt::detail {

// $EPOCHWATT_CONFIG, else $XDG_CONFIG_HOME/epochwatt/config.ini (XDG_CONFIG_HOME absolute), else
// $HOME/.config/epochwatt/config.ini, else "" (no file).
std::string default_config_path();

struct ConfigFile {
  std::string path;
  bool found = false;  // the file exists and was read
  // [location]; rule "config:" + path when any field is set, else "none".
  Location location;
  // [keys]: provider id -> secret. Empty when the file's mode or owner is unsafe (see warnings).
  std::map<std::string, std::string> keys;
  std::optional<bool> offline;          // [intensity] offline
  std::vector<std::string> providers;   // [intensity] providers, in order
  std::optional<double> refresh_s;      // [intensity] refresh, seconds > 0
  std::vector<std::string> warnings;    // one line each, never containing a secret
};

// Reads path (empty: default_config_path()). A missing file is no error: found = false, no warning.
// Never throws.
ConfigFile load_config_file(const std::string& path = {});

// Provider ids that take an API key, and the environment variable of each
// (EPOCHWATT_<ID>_TOKEN, the id upper-cased with every other character turned into '_').
const std::vector<std::string>& keyed_provider_ids();
std::string api_key_env_name(const std::string& provider_id);

struct ApiKeys {
  std::map<std::string, std::string> by_provider;
  // How each key was found: "env:EPOCHWATT_ELECTRICITYMAPS_TOKEN" or "config:PATH". Never the key.
  std::map<std::string, std::string> origin;
  // Every key, for redact().
  std::vector<std::string> secrets() const;
};

// The keys of the config file, overridden per provider by a non-empty environment variable
// (api_key_env_name()). Only EPOCHWATT_* variables are read: a variable another tool defines
// (ELECTRICITYMAPS_API_KEY) is not picked up, so a key meant for something else is never sent.
ApiKeys load_api_keys(const ConfigFile& config);

// The location from EPOCHWATT_COUNTRY, EPOCHWATT_ZONE, EPOCHWATT_POSTCODE, EPOCHWATT_GB_REGION_ID,
// EPOCHWATT_LAT with EPOCHWATT_LON, EPOCHWATT_CLOUD; rule "env:" + the names used, comma-separated
// ("none" when none is set). An unusable value is skipped with one line in *warnings.
Location location_from_env(std::vector<std::string>* warnings = nullptr);

// The location rules in order of precedence (issue 4, item 2): the first that locates the run wins
// as a whole (fields are not mixed across sources, which could disagree). None located: a Location
// with rule "none" (IP geolocation and then the world average come after, elsewhere).
Location choose_location(const Location& from_options, const Location& from_env, const Location& from_config);

// text with every occurrence of each secret of at least 4 characters replaced by "[redacted]"
// (longer secrets first, so a secret that contains another is replaced whole). Shorter secrets are
// left alone: replacing 1-3 characters would garble the text and such keys protect nothing.
std::string redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace epochwatt::detail
