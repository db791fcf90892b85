// The embedded cloud-region table: it holds exactly the rows of data/cloud-region-intensity.csv,
// every country maps to an alpha-2 code of the country table, and the provider reads Location::cloud.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "intensity/providers/cloud_regions.hpp"

using namespace epochwatt;
using namespace epochwatt::detail;

namespace {
std::vector<std::vector<std::string>> csv_rows() {
  std::ifstream in(std::string(EPOCHWATT_SOURCE_DIR) + "/data/cloud-region-intensity.csv");
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, ',');) fields.push_back(f);
    rows.push_back(fields);
  }
  return rows;
}
}  // namespace

TEST(CloudRegions, TheEmbeddedTableIsTheCsv) {
  auto rows = csv_rows();
  ASSERT_EQ(rows.size(), 40u);
  auto names = cloud_region_names();
  ASSERT_EQ(names.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 5u);
    EXPECT_EQ(names[i], rows[i][0] + ":" + rows[i][1]);
    auto r = cloud_region_intensity(names[i]);
    ASSERT_TRUE(r) << names[i];
    EXPECT_EQ(r->country_iso3, rows[i][2]);
    EXPECT_EQ(r->city, rows[i][3]);
    EXPECT_DOUBLE_EQ(r->g_per_kwh, std::stod(rows[i][4]));
  }
}

TEST(CloudRegions, LookupIsCaseInsensitiveAndNeedsTheProvider) {
  auto r = cloud_region_intensity("GCP:Europe-West1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->city, "St. Ghislain");
  EXPECT_EQ(r->country_iso3, "BEL");
  EXPECT_DOUBLE_EQ(r->g_per_kwh, 122.0);
  EXPECT_FALSE(cloud_region_intensity("europe-west1"));
  EXPECT_FALSE(cloud_region_intensity("aws:europe-west1"));
  EXPECT_FALSE(cloud_region_intensity("gcp:europe-west99"));
  EXPECT_FALSE(cloud_region_intensity(""));
  EXPECT_TRUE(cloud_region_intensity("gcp:me-central1"));  // the source spells it me-cenrtal1
}

TEST(CloudRegions, EveryCountryOfTheTableHasAnAlpha2CodeInTheCountryTable) {
  for (const auto& name : cloud_region_names()) {
    auto r = cloud_region_intensity(name);
    std::string a2 = iso3_to_alpha2(r->country_iso3);
    ASSERT_EQ(a2.size(), 2u) << r->country_iso3;
    EXPECT_TRUE(embedded_country_intensity(a2)) << r->country_iso3 << " -> " << a2;
  }
  EXPECT_EQ(iso3_to_alpha2("gbr"), "GB");
  EXPECT_EQ(iso3_to_alpha2("XYZ"), "");
  EXPECT_EQ(iso3_to_alpha2(""), "");
}

TEST(CloudRegions, ProviderReadsTheCloudRegionOfTheLocation) {
  auto p = make_cloud_region_provider();
  EXPECT_EQ(p->name(), "cloud-region-table");
  Location l;
  l.cloud = "gcp:europe-north1";
  std::string why;
  auto v = p->current(l, &why);
  ASSERT_TRUE(v) << why;
  EXPECT_DOUBLE_EQ(v->g_per_kwh, 46.0);
  EXPECT_EQ(v->source, "cloud-region-table");
  EXPECT_FALSE(v->live);
  EXPECT_NE(v->description.find("Hamina"), std::string::npos) << v->description;

  l.cloud = "gcp:mars-north1";
  EXPECT_FALSE(p->current(l, &why));
  EXPECT_NE(why.find("'gcp:mars-north1'"), std::string::npos) << why;
  EXPECT_NE(why.find("data/cloud-region-intensity.csv"), std::string::npos) << why;

  EXPECT_FALSE(p->current(Location::of_country("DE", "option"), &why));
  EXPECT_NE(why.find("no cloud region"), std::string::npos) << why;
}
