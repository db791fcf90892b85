// JsonStreamWriter (src/report/json_stream.hpp) writes, piece by piece, the bytes that nlohmann's
// dump(2) writes for the same tree: `epochwatt parse --json` moved from the tree to the stream
// (issue 13) and must not change a byte.
#include "report/json_stream.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using epochwatt::detail::json_number;
using epochwatt::detail::JsonStreamWriter;
using nlohmann::ordered_json;

// `v` written by the stream writer, the way write() below walks a tree: what a caller of the
// writer does by hand.
void write(JsonStreamWriter& w, const ordered_json& v) {
  switch (v.type()) {
    case ordered_json::value_t::object:
      w.begin_object();
      for (const auto& [k, item] : v.items()) {
        w.key(k);
        write(w, item);
      }
      w.end_object();
      break;
    case ordered_json::value_t::array:
      w.begin_array();
      for (const auto& item : v) write(w, item);
      w.end_array();
      break;
    case ordered_json::value_t::string: w.value(v.get<std::string>()); break;
    case ordered_json::value_t::boolean: w.value(v.get<bool>()); break;
    case ordered_json::value_t::number_integer: w.value(v.get<std::int64_t>()); break;
    case ordered_json::value_t::number_unsigned: w.value(v.get<std::uint64_t>()); break;
    case ordered_json::value_t::number_float: w.value(v.get<double>()); break;
    default: w.null(); break;
  }
}

std::string streamed(const ordered_json& v) {
  std::ostringstream out;
  {
    JsonStreamWriter w(out);
    write(w, v);
  }  // the destructor flushes
  return out.str();
}

TEST(JsonStreamWriter, NestedValuesAreLaidOutAsNlohmannDumpsThem) {
  ordered_json v = {{"schema", "epochwatt-parse/1"},
                    {"runs", ordered_json::array({{{"id", "1.2_x"}, {"epochs", ordered_json::array()}, {"n", 3}},
                                                  {{"empty", ordered_json::object()}, {"null", nullptr}, {"yes", true}}})},
                    {"nested", {{"a", ordered_json::array({ordered_json::array({1.5}), ordered_json::array({2.0})})},
                                {"b", {{"c", {{"d", -7}}}}}}},
                    {"big", std::numeric_limits<std::uint64_t>::max()},
                    {"last", ordered_json::array({"x", 1, 2.5, false, nullptr})}};
  EXPECT_EQ(streamed(v), v.dump(2));
  EXPECT_EQ(streamed(ordered_json::object()), "{}");
  EXPECT_EQ(streamed(ordered_json::array()), "[]");
  EXPECT_EQ(streamed(ordered_json("top")), "\"top\"");
}

TEST(JsonStreamWriter, DoublesHaveNlohmannsDigitsAndLayout) {
  // Whole values, the fixed/exponent boundaries (1e-4, 1e-5, 1e15, 1e16), shortest and
  // non-shortest Grisu2 cases (1.0722274999999999 is how nlohmann writes 1.0722275), extremes.
  const std::vector<double> values = {0.0,     -0.0,    1.0,     -2.0,   0.1,          1.0722275, 0.0001,
                                      0.00001, 1.5e-7,  1e15,    1e16,   123456789.25, 1.5e20,    -3.25e-300,
                                      std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::denorm_min(),
                                      0.170000000000, 75.65, 445.0 * 0.002304166667};
  for (double x : values) {
    EXPECT_EQ(json_number(x), ordered_json(x).dump()) << x;
    EXPECT_EQ(streamed(ordered_json::array({x})), ordered_json::array({x}).dump(2)) << x;
  }
  // NaN and the infinities are null, as nlohmann writes them.
  for (double x : {std::nan(""), std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()})
    EXPECT_EQ(json_number(x), ordered_json(x).dump());
}

TEST(JsonStreamWriter, WholeNumbersHaveNlohmannsDigits) {
  // The writer's shortcut for whole values below 1e15 (integer digits and `.0`, no Grisu2) against
  // nlohmann's formatter: every whole number to 100,000 and its negative, the powers of ten and
  // their neighbours up to and past 1e15, and values spread over the whole range.
  std::vector<double> values;
  for (int i = 1; i <= 100000; ++i) values.push_back(i), values.push_back(-i);
  for (double p = 10; p <= 1e17; p *= 10)
    for (double d : {-2.0, -1.0, 0.0, 1.0, 2.0}) values.push_back(p + d), values.push_back(-(p + d));
  values.push_back(999999999999999.0);
  values.push_back(1e15 - 0.125);
  values.push_back(9007199254740993.0);
  std::uint64_t x = 0x9E3779B97F4A7C15ull;  // a fixed xorshift sequence
  for (int i = 0; i < 200000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double whole = static_cast<double>(x % 1000000000000000ull);  // below 1e15
    values.push_back(whole);
    values.push_back(std::ldexp(whole, -(static_cast<int>(x >> 58) % 40)));  // and some with fractions
  }
  std::size_t checked = 0;
  for (double v : values) {
    ASSERT_EQ(json_number(v), ordered_json(v).dump()) << v;
    ++checked;
  }
  EXPECT_EQ(checked, values.size());
}

TEST(JsonStreamWriter, StringsAreEscapedAsNlohmannEscapesThem) {
  std::string all_controls;
  for (char c = 1; c < 0x20; ++c) all_controls += c;
  const std::vector<std::string> strings = {"",
                                            "plain",
                                            "quote \" and backslash \\",
                                            all_controls,
                                            std::string("nul \0 inside", 12),
                                            "UTF-8: gCO\xe2\x82\x82 \xc3\xa9 \xf0\x9f\x8c\x8d",
                                            "delete \x7f kept"};
  for (const auto& s : strings) {
    EXPECT_EQ(streamed(ordered_json(s)), ordered_json(s).dump(2)) << s;
    ordered_json keyed = {{s, s}};
    EXPECT_EQ(streamed(keyed), keyed.dump(2)) << s;
  }
  // Short strings (1 to 17 bytes: the writer looks at up to 16 as one or two words) with a byte
  // that needs an escape at each position, and without one.
  for (std::size_t n = 1; n <= 17; ++n)
    for (std::size_t at = 0; at <= n; ++at)
      for (char special : {'"', '\\', '\n', '\x01', '\x7f'}) {
        std::string s(n, 'k');
        if (at < n) s[at] = special;
        ordered_json keyed = {{s, s}};
        EXPECT_EQ(streamed(keyed), keyed.dump(2)) << n << " " << at;
      }
}

TEST(JsonStreamWriter, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  // nlohmann's strict default throws on these; the stream writer writes what its `replace`
  // handler writes, so that a path of an odd encoding cannot stop the output.
  for (std::string s : {std::string("bad \xff byte"), std::string("cut \xe2\x82"), std::string("\xc0\xaf overlong"),
                        std::string("\xe0\x80 short"), std::string("\xf0\x9f\x8c mid \xed\xa0\x80 surrogate")}) {
    ordered_json v(s);
    EXPECT_EQ(streamed(v), v.dump(2, ' ', false, ordered_json::error_handler_t::replace)) << s;
  }
}

TEST(JsonStreamWriter, LargeOutputsAreWrittenWhole) {
  // More than the writer's 64 KiB buffer, so that it spills to the stream several times.
  ordered_json v = ordered_json::array();
  for (int i = 0; i < 20000; ++i) v.push_back({{"i", i}, {"x", i * 0.125}, {"s", "run " + std::to_string(i)}});
  EXPECT_EQ(streamed(v), v.dump(2));
  // Strings and keys longer than the buffer, and deeper than the indentation constant (depth 31).
  std::string long_text(100000, 'a');
  long_text[5000] = '\n';
  ordered_json deep = ordered_json::array({long_text});
  for (int i = 0; i < 40; ++i) deep = ordered_json{{i % 2 ? long_text : "k", deep}};
  EXPECT_EQ(streamed(deep), deep.dump(2));
}

TEST(JsonStreamWriter, CallsOutOfOrderAreRefused) {
  std::ostringstream out;
  JsonStreamWriter w(out);
  w.begin_object();
  EXPECT_THROW(w.value(1.0), std::logic_error);  // a member without its key
  EXPECT_THROW(w.end_array(), std::logic_error);
  w.key("a");
  EXPECT_THROW(w.key("b"), std::logic_error);  // two keys in a row
  EXPECT_THROW(w.end_object(), std::logic_error);
  w.value(1);
  w.end_object();
  w.flush();
  EXPECT_EQ(out.str(), "{\n  \"a\": 1\n}");
}

}  // namespace
