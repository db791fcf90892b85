// The backends declare their options as typed data (epochwatt/registry.hpp); docs/options.md's
// backend table is that data, row for row. On failure the test prints the table to paste.
#include <gtest/gtest.h>

#include <set>

#include "epochwatt/registry.hpp"
#include "unit/support.hpp"

namespace {

using namespace epochwatt;

TEST(BackendOptions, EveryBackendDeclaresTypedDocumentedOptions) {
  std::set<std::string> names, flags;
  for (const auto& b : BackendRegistry::builtin().backends()) {
    EXPECT_FALSE(b.options.empty()) << b.name;
    for (const auto& o : b.options) {
      EXPECT_TRUE(names.insert(o.name).second) << "two backends declare " << o.name;
      EXPECT_TRUE(flags.insert(o.cli_flag).second) << "two options share " << o.cli_flag;
      EXPECT_EQ(o.cli_flag.rfind("--", 0), 0u) << o.name;
      EXPECT_FALSE(o.help.empty()) << o.name;
      EXPECT_TRUE(std::set<std::string>({"string", "path", "number", "bool", "component", "list"}).count(o.type)) << o.name;
    }
  }
}

TEST(BackendOptions, DocsTableIsTheRegistrysTable) {
  std::string doc = ewtest::read_file(std::string(EPOCHWATT_SOURCE_DIR) + "/docs/options.md");
  const std::string begin = "<!-- backend-options:begin (generated from src/meters/registry.cpp; tests/unit/backend_options_test.cpp) -->\n";
  const std::string end = "<!-- backend-options:end -->";
  std::size_t a = doc.find(begin), b = doc.find(end);
  ASSERT_NE(a, std::string::npos) << "docs/options.md lacks the marker: " << begin;
  ASSERT_NE(b, std::string::npos);
  std::string expected = backend_options_markdown(BackendRegistry::builtin());
  EXPECT_EQ(doc.substr(a + begin.size(), b - a - begin.size()), expected) << "paste into docs/options.md:\n" << expected;
}

}  // namespace
