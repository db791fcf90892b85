// The configuration file, API keys (file mode, environment precedence), the location from the
// environment, the precedence of location rules, and redaction.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>

#include "intensity/config_file.hpp"
#include "unit/support.hpp"

using namespace epochwatt;
using namespace epochwatt::detail;

namespace {

constexpr const char* kSecret = "s3cr3t-EM-token-0123456789";

// Every variable these functions read, cleared for the test's scope.
struct CleanEnv {
  std::vector<std::unique_ptr<ewtest::ScopedEnv>> guards;
  CleanEnv() {
    for (const char* v : {"EPOCHWATT_CONFIG", "XDG_CONFIG_HOME", "EPOCHWATT_COUNTRY", "EPOCHWATT_ZONE",
                          "EPOCHWATT_POSTCODE", "EPOCHWATT_GB_REGION_ID", "EPOCHWATT_LAT", "EPOCHWATT_LON",
                          "EPOCHWATT_CLOUD", "EPOCHWATT_ELECTRICITYMAPS_TOKEN", "ELECTRICITYMAPS_API_KEY"})
      guards.push_back(std::make_unique<ewtest::ScopedEnv>(v, std::nullopt));
  }
};

std::string write_config(const ewtest::TempDir& dir, const std::string& text, mode_t mode = 0600,
                         const std::string& name = "config.ini") {
  std::string path = dir.str() + "/" + name;
  ewtest::write_file(path, text);
  ::chmod(path.c_str(), mode);
  return path;
}

bool has_warning(const ConfigFile& c, const std::string& prefix, const std::string& text) {
  return std::any_of(c.warnings.begin(), c.warnings.end(), [&](const std::string& w) {
    return w.rfind(prefix, 0) == 0 && w.find(text) != std::string::npos;
  });
}

std::string all_warnings(const ConfigFile& c) {
  std::string out;
  for (const auto& w : c.warnings) out += w + "\n";
  return out;
}

}  // namespace

TEST(ConfigFile, DefaultPathIsTheVariableThenXdgThenHome) {
  CleanEnv clean;
  ewtest::ScopedEnv home("HOME", "/home/someone");
  EXPECT_EQ(default_config_path(), "/home/someone/.config/epochwatt/config.ini");
  {
    ewtest::ScopedEnv xdg("XDG_CONFIG_HOME", "/etc/xdg-user");
    EXPECT_EQ(default_config_path(), "/etc/xdg-user/epochwatt/config.ini");
    ewtest::ScopedEnv explicit_path("EPOCHWATT_CONFIG", "/tmp/my.ini");
    EXPECT_EQ(default_config_path(), "/tmp/my.ini");
  }
  {
    ewtest::ScopedEnv xdg("XDG_CONFIG_HOME", "relative");
    EXPECT_EQ(default_config_path(), "/home/someone/.config/epochwatt/config.ini");
  }
  ewtest::ScopedEnv no_home("HOME", std::nullopt);
  EXPECT_EQ(default_config_path(), "");
  ConfigFile none = load_config_file();
  EXPECT_FALSE(none.found);
  EXPECT_TRUE(none.warnings.empty());
}

TEST(ConfigFile, AMissingFileIsNoError) {
  CleanEnv clean;
  ewtest::TempDir dir;
  ConfigFile c = load_config_file(dir.str() + "/absent.ini");
  EXPECT_FALSE(c.found);
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(c.location.rule, "none");
  EXPECT_FALSE(c.location.located());
  ConfigFile under_file = load_config_file(write_config(dir, "x") + "/below-a-file.ini");
  EXPECT_FALSE(under_file.found);
  EXPECT_TRUE(under_file.warnings.empty());
}

TEST(ConfigFile, ReadsEverySectionWithCommentsQuotesAndCase) {
  CleanEnv clean;
  ewtest::TempDir dir;
  std::string path = write_config(dir,
                                  "\xEF\xBB\xBF# epochwatt configuration, saved with a byte order mark\n"
                                  "; another comment\n"
                                  "\n"
                                  "[Location]\r\n"
                                  "  country = dk   # Denmark\n"
                                  "zone=DK-DK1\n"
                                  "Postcode = 'rg10'\n"
                                  "region_id = 4 ; South England\n"
                                  "lat = 55.7\n"
                                  "lon = -12.625\n"
                                  "cloud = \"gcp:europe-west1\"  # quoted\n"
                                  "\n"
                                  "[intensity]  # live sources\n"
                                  "offline = Yes\n"
                                  "providers = ElectricityMaps, carbonintensity.org.uk,, \n"
                                  "refresh = 900\n"
                                  "[keys]\n"
                                  "electricitymaps = \"" + std::string(kSecret) + "\"\n");
  ConfigFile c = load_config_file(path);
  EXPECT_TRUE(c.found);
  EXPECT_EQ(c.path, path);
  EXPECT_TRUE(c.warnings.empty()) << all_warnings(c);
  EXPECT_EQ(c.location.country, "DK");
  EXPECT_EQ(c.location.zone, "DK-DK1");
  EXPECT_EQ(c.location.postcode, "RG10");
  EXPECT_EQ(c.location.gb_region_id, 4);
  EXPECT_EQ(c.location.lat, 55.7);
  EXPECT_EQ(c.location.lon, -12.625);
  EXPECT_EQ(c.location.cloud, "gcp:europe-west1");
  EXPECT_EQ(c.location.rule, "config:" + path);
  EXPECT_EQ(c.offline, true);
  EXPECT_EQ(c.providers, (std::vector<std::string>{"electricitymaps", "carbonintensity.org.uk"}));
  EXPECT_EQ(c.refresh_s, 900.0);
  ASSERT_EQ(c.keys.size(), 1u);
  EXPECT_EQ(c.keys.at("electricitymaps"), kSecret);
}

TEST(ConfigFile, EveryProblemIsOneWarningNamingFileAndLineAndNeverAKey) {
  CleanEnv clean;
  ewtest::TempDir dir;
  const std::string s = kSecret;
  std::string path = write_config(dir,
                                  "country = DK\n"                     // 1 outside a section
                                  "[location]\n"                       // 2
                                  "country = Denmark\n"                // 3 bad country
                                  "region_id = 18\n"                   // 4 bad region id
                                  "lat = 55,7\n"                       // 5 bad latitude (comma)
                                  "lon = 200\n"                        // 6 bad longitude
                                  "cloud = europe-west1\n"             // 7 bad cloud
                                  "zone = DK DK1\n"                    // 8 bad zone
                                  "altitude = 12\n"                    // 9 unknown name
                                  "postcode =\n"                       // 10 empty: unset, no warning
                                  "country = SE\n"                     // 11 repeated (the value is fine)
                                  "[intensity\n"                       // 12 malformed header
                                  "offline = maybe\n"                  // 13 in a broken section: ignored
                                  "[intensity]\n"                      // 14
                                  "offline = maybe\n"                  // 15 bad boolean
                                  "refresh = -5\n"                     // 16 bad refresh
                                  "refresh = soon\n"                   // 17 bad refresh, repeated
                                  "[keys]\n"                           // 18
                                  + s + "\n"                           // 19 no '='
                                  "electricitymaps = \"" + s + "\n"    // 20 unterminated quote
                                  "electricitymaps = '" + s + "' x\n"  // 21 text after the quote
                                  + s + " = value\n"                   // 22 unknown provider id
                                  "electricitymaps =\n"                // 23 empty key
                                  "= " + s + "\n"                      // 24 no name
                                  "[metrics]\n"                        // 25 unknown section
                                  "port = 9100\n"                      // 26 in it: ignored
                                  "[location]\n"                       // 27
                                  "lat = 10\n");                       // 28 lat without lon
  ConfigFile c = load_config_file(path);
  EXPECT_TRUE(c.found);
  const std::string p = path + ":";
  EXPECT_TRUE(has_warning(c, p + "1: ", "outside a section"));
  EXPECT_TRUE(has_warning(c, p + "3: ", "'country' = 'Denmark' is not an ISO 3166-1 alpha-2"));
  EXPECT_TRUE(has_warning(c, p + "4: ", "region id from 1 to 17"));
  EXPECT_TRUE(has_warning(c, p + "5: ", "'lat' = '55,7' is not a latitude"));
  EXPECT_TRUE(has_warning(c, p + "6: ", "'lon' = '200' is not a longitude"));
  EXPECT_TRUE(has_warning(c, p + "7: ", "provider:region"));
  EXPECT_TRUE(has_warning(c, p + "8: ", "zone id"));
  EXPECT_TRUE(has_warning(c, p + "9: ", "unknown name 'altitude' in [location]"));
  EXPECT_TRUE(has_warning(c, p + "11: ", "'country' repeated in [location]"));
  EXPECT_TRUE(has_warning(c, p + "12: ", "malformed section header"));
  EXPECT_TRUE(has_warning(c, p + "15: ", "'offline' = 'maybe' is not true or false"));
  EXPECT_TRUE(has_warning(c, p + "16: ", "'refresh' = '-5' is not a number of seconds"));
  EXPECT_TRUE(has_warning(c, p + "17: ", "'refresh' = 'soon'"));
  EXPECT_TRUE(has_warning(c, p + "17: ", "'refresh' repeated"));
  EXPECT_TRUE(has_warning(c, p + "19: ", "malformed line (expected 'name = value' or '[section]')"));
  EXPECT_TRUE(has_warning(c, p + "20: ", "unterminated quote"));
  EXPECT_TRUE(has_warning(c, p + "21: ", "text after the closing quote"));
  EXPECT_TRUE(has_warning(c, p + "22: ", "unknown provider id in [keys]"));
  EXPECT_TRUE(has_warning(c, p + "23: ", "empty key for 'electricitymaps'"));
  EXPECT_TRUE(has_warning(c, p + "24: ", "no name before '='"));
  EXPECT_TRUE(has_warning(c, p + "25: ", "unknown section [metrics]"));
  EXPECT_TRUE(has_warning(c, p + "28: ", "'lat' repeated in [location]"));
  EXPECT_TRUE(has_warning(c, p + "28: ", "'lat' without 'lon'"));
  EXPECT_EQ(c.warnings.size(), 23u) << all_warnings(c);
  for (const auto& w : c.warnings) {
    EXPECT_EQ(w.find(s), std::string::npos) << "a warning shows the key: " << w;
    EXPECT_EQ(w.find('\n'), std::string::npos);
  }
  // What was valid is kept; what was not is unset.
  EXPECT_EQ(c.location.country, "SE");
  EXPECT_EQ(c.location.gb_region_id, 0);
  EXPECT_FALSE(c.location.lat);
  EXPECT_FALSE(c.location.lon);
  EXPECT_TRUE(c.location.zone.empty());
  EXPECT_FALSE(c.offline);
  EXPECT_FALSE(c.refresh_s);
  EXPECT_TRUE(c.keys.empty());
}

TEST(ConfigFile, KeysInAFileOthersCanReadAreIgnoredWithTheChmodFix) {
  CleanEnv clean;
  ewtest::TempDir dir;
  const std::string text = "[location]\ncountry = GB\n[keys]\nelectricitymaps = " + std::string(kSecret) + "\n";
  for (mode_t mode : {0644, 0640, 0604, 0620, 0602}) {
    std::string path = write_config(dir, text, mode);
    ConfigFile c = load_config_file(path);
    EXPECT_TRUE(c.keys.empty()) << std::oct << mode;
    ASSERT_EQ(c.warnings.size(), 1u) << all_warnings(c);
    EXPECT_NE(c.warnings[0].find("fix: chmod 600 " + path), std::string::npos) << c.warnings[0];
    EXPECT_EQ(c.warnings[0].find(kSecret), std::string::npos);
    EXPECT_EQ(c.location.country, "GB") << "the rest of the file is used";
    EXPECT_TRUE(load_api_keys(c).by_provider.empty());
  }
  std::string path = write_config(dir, text, 0600);
  ConfigFile c = load_config_file(path);
  EXPECT_TRUE(c.warnings.empty()) << all_warnings(c);
  EXPECT_EQ(c.keys.at("electricitymaps"), kSecret);
  // Without keys the mode does not matter.
  ConfigFile open_no_keys = load_config_file(write_config(dir, "[location]\ncountry = GB\n", 0644, "open.ini"));
  EXPECT_TRUE(open_no_keys.warnings.empty());
  // A path with a space is quoted in the fix.
  ConfigFile spaced = load_config_file(write_config(dir, text, 0644, "my config.ini"));
  ASSERT_EQ(spaced.warnings.size(), 1u);
  EXPECT_NE(spaced.warnings[0].find("chmod 600 '" + dir.str() + "/my config.ini'"), std::string::npos)
      << spaced.warnings[0];
}

TEST(ConfigFile, KeysInAFileOfAnotherUserAreIgnored) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the file to another user";
  CleanEnv clean;
  ewtest::TempDir dir;
  std::string path = write_config(dir, "[keys]\nelectricitymaps = " + std::string(kSecret) + "\n", 0600);
  ASSERT_EQ(::chown(path.c_str(), 4242, 4242), 0);
  ConfigFile c = load_config_file(path);
  EXPECT_TRUE(c.keys.empty());
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("belongs to uid 4242"), std::string::npos) << c.warnings[0];
  EXPECT_NE(c.warnings[0].find("chmod 600 " + path), std::string::npos) << c.warnings[0];
  EXPECT_EQ(c.warnings[0].find(kSecret), std::string::npos);
}

TEST(ConfigFile, AFolderInsteadOfAFileIsOneWarning) {
  CleanEnv clean;
  ewtest::TempDir dir;
  ConfigFile c = load_config_file(dir.str());
  EXPECT_FALSE(c.found);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find(dir.str()), std::string::npos);
  EXPECT_NE(c.warnings[0].find("ignored"), std::string::npos);
}

TEST(ApiKeys, EnvironmentWinsOverTheFileAndOnlyOurVariableIsRead) {
  CleanEnv clean;
  ewtest::TempDir dir;
  std::string path = write_config(dir, "[keys]\nelectricitymaps = from-the-file\n");
  ConfigFile c = load_config_file(path);
  EXPECT_EQ(api_key_env_name("electricitymaps"), "EPOCHWATT_ELECTRICITYMAPS_TOKEN");
  EXPECT_EQ(api_key_env_name("carbonintensity.org.uk"), "EPOCHWATT_CARBONINTENSITY_ORG_UK_TOKEN");

  ApiKeys from_file = load_api_keys(c);
  EXPECT_EQ(from_file.by_provider.at("electricitymaps"), "from-the-file");
  EXPECT_EQ(from_file.origin.at("electricitymaps"), "config:" + path);

  {
    ewtest::ScopedEnv other("ELECTRICITYMAPS_API_KEY", "meant-for-another-tool");
    EXPECT_EQ(load_api_keys(c).by_provider.at("electricitymaps"), "from-the-file");
    EXPECT_TRUE(load_api_keys(ConfigFile{}).by_provider.empty());
  }
  {
    ewtest::ScopedEnv blank("EPOCHWATT_ELECTRICITYMAPS_TOKEN", "  ");
    EXPECT_EQ(load_api_keys(c).origin.at("electricitymaps"), "config:" + path) << "blank is unset";
  }
  ewtest::ScopedEnv env("EPOCHWATT_ELECTRICITYMAPS_TOKEN", "from-the-env");
  ApiKeys k = load_api_keys(c);
  EXPECT_EQ(k.by_provider.at("electricitymaps"), "from-the-env");
  EXPECT_EQ(k.origin.at("electricitymaps"), "env:EPOCHWATT_ELECTRICITYMAPS_TOKEN");
  EXPECT_EQ(k.secrets(), std::vector<std::string>{"from-the-env"});
  for (const auto& [id, origin] : k.origin) EXPECT_EQ(origin.find("from-the"), std::string::npos);
}

TEST(LocationFromEnv, NamesTheVariablesItUsed) {
  CleanEnv clean;
  EXPECT_EQ(location_from_env().rule, "none");
  EXPECT_FALSE(location_from_env().located());
  ewtest::ScopedEnv country("EPOCHWATT_COUNTRY", "gb");
  ewtest::ScopedEnv postcode("EPOCHWATT_POSTCODE", " rg10 ");
  ewtest::ScopedEnv lat("EPOCHWATT_LAT", "51.45");
  ewtest::ScopedEnv lon("EPOCHWATT_LON", "-0.97");
  ewtest::ScopedEnv cloud("EPOCHWATT_CLOUD", "gcp:europe-west2");
  std::vector<std::string> warnings;
  Location l = location_from_env(&warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(l.country, "GB");
  EXPECT_EQ(l.postcode, "RG10");
  EXPECT_EQ(l.lat, 51.45);
  EXPECT_EQ(l.lon, -0.97);
  EXPECT_EQ(l.cloud, "gcp:europe-west2");
  EXPECT_EQ(l.rule, "env:EPOCHWATT_COUNTRY,EPOCHWATT_POSTCODE,EPOCHWATT_LAT,EPOCHWATT_LON,EPOCHWATT_CLOUD");
}

TEST(LocationFromEnv, AnUnusableValueIsSkippedWithOneLine) {
  CleanEnv clean;
  ewtest::ScopedEnv country("EPOCHWATT_COUNTRY", "Denmark");
  ewtest::ScopedEnv zone("EPOCHWATT_ZONE", "DK-DK2");
  ewtest::ScopedEnv lat("EPOCHWATT_LAT", "55.7");
  ewtest::ScopedEnv region("EPOCHWATT_GB_REGION_ID", "x");
  std::vector<std::string> warnings;
  Location l = location_from_env(&warnings);
  EXPECT_EQ(l.zone, "DK-DK2");
  EXPECT_TRUE(l.country.empty());
  EXPECT_FALSE(l.lat);
  EXPECT_EQ(l.rule, "env:EPOCHWATT_ZONE");
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_EQ(warnings[0], "EPOCHWATT_COUNTRY='Denmark' is not an ISO 3166-1 alpha-2 country code such as DK; ignored");
  EXPECT_NE(warnings[1].find("EPOCHWATT_GB_REGION_ID='x'"), std::string::npos);
  EXPECT_EQ(warnings[2], "EPOCHWATT_LAT without EPOCHWATT_LON; the coordinate is ignored");
  EXPECT_NO_THROW(location_from_env());  // no warning list: still no crash
}

TEST(LocationPrecedence, OptionsThenEnvironmentThenConfigFileAsAWhole) {
  CleanEnv clean;
  ewtest::TempDir dir;
  std::string path = write_config(dir, "[location]\ncountry = DE\nzone = DE\n");
  ConfigFile config = load_config_file(path);
  Location options = Location::of_country("FR", "option");
  Location none;

  {
    ewtest::ScopedEnv env("EPOCHWATT_ZONE", "DK-DK1");
    Location from_env = location_from_env();
    EXPECT_EQ(choose_location(options, from_env, config.location).rule, "option");
    Location chosen = choose_location(none, from_env, config.location);
    EXPECT_EQ(chosen.rule, "env:EPOCHWATT_ZONE");
    EXPECT_EQ(chosen.zone, "DK-DK1");
    EXPECT_TRUE(chosen.country.empty()) << "the file's country is not mixed in";
  }
  Location chosen = choose_location(none, location_from_env(), config.location);
  EXPECT_EQ(chosen.rule, "config:" + path);
  EXPECT_EQ(chosen.country, "DE");
  Location nothing = choose_location(none, none, load_config_file(dir.str() + "/absent.ini").location);
  EXPECT_EQ(nothing.rule, "none");
  EXPECT_FALSE(nothing.located());
}

TEST(Redact, ReplacesEveryOccurrenceOfEachSecret) {
  EXPECT_EQ(redact("GET /latest auth-token: abcd1234 failed (abcd1234)", {"abcd1234"}),
            "GET /latest auth-token: [redacted] failed ([redacted])");
  EXPECT_EQ(redact("k=LONGSECRET and k=LONG", {"LONG", "LONGSECRET"}), "k=[redacted] and k=[redacted]")
      << "the longer secret is replaced whole";
  EXPECT_EQ(redact("a key abc is too short to redact", {"abc", ""}), "a key abc is too short to redact");
  EXPECT_EQ(redact("nothing secret", {}), "nothing secret");
  EXPECT_EQ(redact("xxxxxx", {"xxxx"}), "[redacted]xx");
  EXPECT_EQ(redact("my edac", {"edac", "dact"}), "my [redacted]") << "a mark is not searched again";
}
