// Number and time formatting (src/core/format.hpp) against spec §5.3 and the table of §7.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "core/format.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt::detail;

struct TimeCase {
  double seconds;
  const char* report;    // "Time:" of a report block
  const char* duration;  // "Duration:" of the standard log
};

// Spec §7, every row, plus the cases the brief names (59.995, 90000 s) and a few carries.
const TimeCase kTimeCases[] = {
    {0.0, "0:00:00", "0:00:00.00"},
    {2.004, "0:00:02", "0:00:02.00"},
    {2.5, "0:00:02", "0:00:02.50"},
    {3.5, "0:00:04", "0:00:03.50"},
    {141.9, "0:02:22", "0:02:21.90"},
    {1000.0, "0:16:40", "0:16:40.00"},
    {3659.5, "1:01:00", "1:00:59.50"},
    {3659.9955, "1:01:00", "1:01:00.00"},
    {3666.0, "1:01:06", "1:01:06.00"},
    {3666.4, "1:01:06", "1:01:06.40"},
    {-3666.0, "-1:01:06", "-1:01:06.00"},
    {-3666.4, "-1:01:06", "-1:01:06.40"},
    {59.995, "0:01:00", "0:00:59.99"},  // the binary value is below 59.995
    {59.996, "0:01:00", "0:01:00.00"},  // "60.00" carries into the minutes
    {90000.0, "25:00:00", "25:00:00.00"},
    {3599.6, "1:00:00", "0:59:59.60"},  // a rounded 60 carries into the hours
    {3599.999, "1:00:00", "1:00:00.00"},
    {10.0, "0:00:10", "0:00:10.00"},
    {30.0, "0:00:30", "0:00:30.00"},
    {0.001, "0:00:00", "0:00:00.00"},
    {360000.0, "100:00:00", "100:00:00.00"},  // hours unbounded, no days
};

TEST(FormatTime, ReportTimeMatchesSpecTable) {
  for (const auto& c : kTimeCases) EXPECT_EQ(report_time(c.seconds), c.report) << "seconds=" << c.seconds;
}

TEST(FormatTime, LogDurationMatchesSpecTable) {
  for (const auto& c : kTimeCases) EXPECT_EQ(log_duration(c.seconds), c.duration) << "seconds=" << c.seconds;
}

TEST(FormatTime, ReportTimeRoundsHalfToEven) {
  EXPECT_EQ(report_time(0.5), "0:00:00");
  EXPECT_EQ(report_time(1.5), "0:00:02");
  EXPECT_EQ(report_time(4.5), "0:00:04");
  EXPECT_EQ(report_time(5.5), "0:00:06");
  EXPECT_EQ(report_time(59.5), "0:01:00");
  EXPECT_EQ(report_time(58.5), "0:00:58");
}

TEST(FormatTime, NonFiniteValuesPrintAsPythonDoes) {
  EXPECT_EQ(report_time(std::nan("")), "nan");
  EXPECT_EQ(log_duration(std::numeric_limits<double>::infinity()), "inf");
}

TEST(FormatNumber, FixedRoundsTheBinaryValue) {
  EXPECT_EQ(fixed(0.004608333333333333, 12), "0.004608333333");
  EXPECT_EQ(fixed(2.0507083333333333, 12), "2.050708333333");
  EXPECT_EQ(fixed(0.019201388888888888, 12), "0.019201388889");
  EXPECT_EQ(fixed(445.0, 2), "445.00");
  EXPECT_EQ(fixed(143.30042, 2), "143.30");
  EXPECT_EQ(fixed(2.675, 2), "2.67");    // 2.675 is 2.67499999... in binary, as Python prints
  EXPECT_EQ(fixed(0.125, 2), "0.12");    // an exact tie rounds half to even
  EXPECT_EQ(fixed(0.375, 2), "0.38");
  EXPECT_EQ(fixed(1e20, 2), "100000000000000000000.00");
  EXPECT_EQ(fixed(-1.5, 0), "-2");
  EXPECT_EQ(fixed(12.0, 0), "12");
  EXPECT_EQ(fixed(std::nan(""), 12), "nan");
  EXPECT_EQ(fixed(-std::numeric_limits<double>::infinity(), 3), "-inf");
}

TEST(FormatNumber, ShortestFixedIsNeverScientific) {
  EXPECT_EQ(shortest_fixed(300.0), "300.0");
  EXPECT_EQ(shortest_fixed(50.0), "50.0");
  EXPECT_EQ(shortest_fixed(0.00005), "0.00005");
  EXPECT_EQ(shortest_fixed(0.0), "0.0");
  EXPECT_EQ(shortest_fixed(469.06075000000004), "469.06075000000004");
  EXPECT_EQ(shortest_fixed(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(shortest_fixed(1e16), "10000000000000000.0");
  EXPECT_EQ(shortest_fixed(1.5e-7), "0.00000015");
  EXPECT_EQ(shortest_fixed(-2.5), "-2.5");
  EXPECT_EQ(shortest_fixed(std::nan("")), "nan");
}

TEST(FormatNumber, PythonFloatReprSwitchesToScientificLikePython) {
  EXPECT_EQ(python_float_repr(5e-05), "5e-05");
  EXPECT_EQ(python_float_repr(1e+16), "1e+16");
  EXPECT_EQ(python_float_repr(1.5e16), "1.5e+16");
  EXPECT_EQ(python_float_repr(1.2345e-7), "1.2345e-07");
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");  // 1e-4 itself stays fixed
  EXPECT_EQ(python_float_repr(9999999999999998.0), "9999999999999998.0");
  EXPECT_EQ(python_float_repr(240.0), "240.0");
  EXPECT_EQ(python_float_repr(469.06075000000004), "469.06075000000004");
  EXPECT_EQ(python_float_repr(0.0), "0.0");
  EXPECT_EQ(python_float_repr(-5e-05), "-5e-05");
}

TEST(FormatNumber, PythonRoundedListIsReprOfRoundedValues) {
  EXPECT_EQ(python_rounded_list({445.0}), "[445.0]");
  EXPECT_EQ(python_rounded_list({143.30042, 151.2503}), "[143.3, 151.25]");
  EXPECT_EQ(python_rounded_list({}), "[]");
  EXPECT_EQ(python_rounded_list({2.675}), "[2.67]");  // round(2.675, 2) == 2.67 in Python
  EXPECT_EQ(python_rounded_list({0.004}), "[0.0]");
  EXPECT_EQ(python_rounded_list({1234.5678, 0.1}), "[1234.57, 0.1]");
}

TEST(FormatTimestamp, LocalAndUtcStampsOfAKnownInstant) {
  ewtest::ScopedEnv tz("TZ", "UTC");
  auto t = std::chrono::system_clock::time_point{std::chrono::seconds{1735689600}} +
           std::chrono::milliseconds{30042};
  EXPECT_EQ(local_timestamp(t), "2025-01-01 00:00:30");
  EXPECT_EQ(local_timestamp(t, true), "2025-01-01 00:00:30,042");
  EXPECT_EQ(utc_iso8601(t), "2025-01-01T00:00:30.042Z");
  EXPECT_EQ(utc_file_stamp(t), "2025-01-01T000030Z");
}

TEST(FormatTimestamp, FileStampIsRealUtcWhateverTheTimeZone) {
  // Spec D19: the original writes local time with a literal Z; epochwatt writes real UTC, while
  // the <ts> of log lines stays local time.
  ewtest::ScopedEnv tz("TZ", "EST5");
  auto t = std::chrono::system_clock::time_point{std::chrono::seconds{1735689600}};
  EXPECT_EQ(utc_file_stamp(t), "2025-01-01T000000Z");
  EXPECT_EQ(local_timestamp(t), "2024-12-31 19:00:00");
}

// A JSON summary's time stamp outside what system_clock holds (years 1678 to 2261) is malformed,
// not an overflow (found by fuzz/json_summary: "3563-..." overflowed from_time_t).
TEST(ParseUtcIso8601, RefusesYearsTheClockCannotHold) {
  for (const char* bad : {"3563-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "1000-01-01T00:00:00Z",
                          "2263-01-01T00:00:00Z"})
    EXPECT_FALSE(parse_utc_iso8601(bad)) << bad;
  ASSERT_TRUE(parse_utc_iso8601("2200-01-01T00:00:00.000Z"));
  EXPECT_EQ(utc_iso8601(*parse_utc_iso8601("2200-01-01T00:00:00.000Z")), "2200-01-01T00:00:00.000Z");
}

}  // namespace
