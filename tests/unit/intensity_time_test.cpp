// parse_utc_time(): the time stamps of the three intensity APIs, read as UTC.
#include <gtest/gtest.h>

#include "intensity/http_json.hpp"

using epochwatt::detail::parse_utc_time;
using std::chrono::system_clock;

namespace {
const auto kNoon = system_clock::time_point{std::chrono::seconds{1795694400}};  // 2026-11-26T12:00Z
}

TEST(ParseUtcTime, ReadsTheApisFormats) {
  EXPECT_EQ(parse_utc_time("2026-11-26T12:00Z"), kNoon);                // carbonintensity.org.uk
  EXPECT_EQ(parse_utc_time("2026-11-26T12:00:00"), kNoon);              // Energi Data Service (UTC field)
  EXPECT_EQ(parse_utc_time("2026-11-26T12:00:00.000Z"), kNoon);         // Electricity Maps
  EXPECT_EQ(parse_utc_time("2026-11-26T12:00:00+00:00"), kNoon);
  EXPECT_EQ(parse_utc_time("2026-11-26T12:05:30.5Z"), kNoon + std::chrono::seconds(330) + std::chrono::milliseconds(500));
  EXPECT_EQ(parse_utc_time("2024-02-29T00:00Z"), system_clock::time_point{std::chrono::seconds{1709164800}});
}

TEST(ParseUtcTime, RefusesOtherOffsetsAndMalformedText) {
  for (const char* bad : {"", "2026-11-26", "2026-11-26T12:00+01:00", "2026-02-30T12:00Z", "2026-11-26T24:00Z",
                          "2026-11-26T12:60Z", "2026/11/26T12:00Z", "2026-11-26T12:00:00.Z", "2026-11-26T12:00Zjunk",
                          "20a6-11-26T12:00Z"})
    EXPECT_FALSE(parse_utc_time(bad)) << bad;
}

// A year that system_clock's 64-bit nanoseconds cannot hold (about 1678 to 2261) is malformed: its
// conversion would overflow (fuzz/carbonintensity_uk found "1091-11-26T12:30Z" in an answer).
TEST(ParseUtcTime, RefusesYearsTheClockCannotHold) {
  for (const char* bad : {"1091-11-26T12:30Z", "0000-01-01T00:00Z", "1677-01-01T00:00Z", "2263-01-01T00:00Z",
                          "9999-12-31T23:59:59.999Z"})
    EXPECT_FALSE(parse_utc_time(bad)) << bad;
  EXPECT_TRUE(parse_utc_time("1700-01-01T00:00Z"));
  EXPECT_TRUE(parse_utc_time("2200-01-01T00:00Z"));
}
