// The backends declare their options as typed data (epochwatt/registry.hpp); docs/options.md's
// backend table is that data, row for row (on failure the test prints the table to paste). Each
// row's default is its Options member's, and a backend is given the values of its own options
// alone (BackendConfig); a row without an Options member works through Options::backend_options,
// so that a new row is all a new option needs. The CLI's side: tests/e2e/cli_options_test.cpp.
#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "epochwatt/epochwatt.hpp"
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
      // A bool is a flag that sets it: false until given.
      if (o.type == "bool") {
        EXPECT_EQ(o.default_value, "false") << o.name;
      }
    }
  }
}

// A row's declared default (what --help, devices --json and the docs say) is its Options
// member's default, of the row's type; a value written through the row reads back the same.
TEST(BackendOptions, EveryRowsDefaultIsItsOptionsMembersAndOfItsType) {
  const Options defaults;
  for (const auto& b : BackendRegistry::builtin().backends())
    for (const auto& o : b.options) {
      ASSERT_TRUE(o.field.read && o.field.write) << o.name << ": the built-in options keep their Options members";
      std::optional<BackendValue> member = o.field.read(defaults);
      if (o.default_value.empty() && o.type != "list") {
        bool unset_or_empty = !member || *member == BackendValue(std::string());
        EXPECT_TRUE(unset_or_empty) << o.name << " has a default the row does not say";
        continue;
      }
      ASSERT_TRUE(member.has_value()) << o.name;
      EXPECT_EQ(*member, parse_backend_value(o, o.default_value)) << o.name << ": row and Options member disagree";
      EXPECT_EQ(backend_value_text(*member), o.default_value) << o.name;
      Options changed;
      set_backend_option(changed, o, *member);
      EXPECT_EQ(o.field.read(changed), member) << o.name;
      EXPECT_TRUE(changed.backend_options.empty()) << o.name;
    }
}

TEST(BackendOptions, ValuesReadAsTheirTypeAndWriteBackAsAUserWouldWrite) {
  BackendOption number{"x", "number", "", "--x", "x"}, flag{"b", "bool", "false", "--b", "b"},
      comp{"c", "component", "gpu", "--c", "c"}, list{"l", "list", "", "--l", "l"}, path{"p", "path", "", "--p", "p"};
  EXPECT_EQ(parse_backend_value(number, "0.5"), BackendValue(0.5));
  EXPECT_EQ(parse_backend_value(number, "-2e3"), BackendValue(-2000.0));
  EXPECT_EQ(parse_backend_value(flag, "true"), BackendValue(true));
  EXPECT_EQ(parse_backend_value(comp, "dram"), BackendValue(Component::dram));
  EXPECT_EQ(parse_backend_value(list, ",package,,core,"), BackendValue(std::vector<std::string>{"package", "core"}));
  EXPECT_EQ(parse_backend_value(path, "a b"), BackendValue(std::string("a b")));
  for (const char* bad : {"", "10W", "nan", "inf", "1,5"}) {
    try {
      parse_backend_value(number, bad);
      ADD_FAILURE() << bad;
    } catch (const OptionsError& e) {
      EXPECT_EQ(std::string(e.what()), "'" + std::string(bad) + "' is not a finite number");
    }
  }
  EXPECT_THROW(parse_backend_value(flag, "yes"), OptionsError);
  EXPECT_THROW(parse_backend_value(comp, "tpu"), OptionsError);
  EXPECT_EQ(backend_value_text(BackendValue(0.1)), "0.1");
  EXPECT_EQ(backend_value_text(BackendValue(std::vector<std::string>{"package", "dram"})), "package,dram");
  EXPECT_EQ(backend_value_text(BackendValue(Component::cpu)), "cpu");
  EXPECT_EQ(backend_value_text(BackendValue(false)), "false");
}

// Every built-in backend discovers from its own options alone: a read of an option it does not
// declare (or share) would throw std::logic_error out of discover().
TEST(BackendOptions, EveryBackendDiscoversFromItsOwnConfigAlone) {
  ewtest::TempDir empty;
  Options o;
  o.powercap_root = o.drm_root = o.proc_root = empty.str();
  o.nvml_library = (empty.path() / "no-libnvidia-ml.so").string();
  o.sim_cpu = "X";
  o.sim_cpu_tdp = 10.0;
  o.replay_trace = (empty.path() / "no-trace.csv").string();
  o.devices_by_pid = true;
  const BackendRegistry& registry = BackendRegistry::builtin();
  for (const auto& b : registry.backends()) {
    BackendConfig config = backend_config(b, o, registry);
    std::set<std::string> expected;
    for (const auto& opt : b.options) expected.insert(opt.name);
    for (const auto& name : b.shared_options) expected.insert(name);
    std::set<std::string> given;
    for (const auto& [name, value] : config.values()) given.insert(name);
    EXPECT_EQ(given, expected) << b.name << " is given its own options, no more";
    EXPECT_NO_THROW(b.discover(config)) << b.name;
  }
  BackendConfig rapl = backend_config(registry.backends()[2], o, registry);
  ASSERT_EQ(rapl.backend(), "rapl");
  EXPECT_EQ(rapl.text("powercap_root"), empty.str());
  EXPECT_THROW(rapl.text("proc_root"), std::logic_error) << "not rapl's";
  EXPECT_THROW(rapl.number("powercap_root"), std::logic_error) << "not its type";
}

// A backend of one's own, whose options have no Options member: its rows alone make them work,
// from Options::backend_options (where the CLI's loop writes them) to its discover().
TEST(BackendOptions, ARowWithoutAnOptionsMemberReachesItsBackend) {
  auto seen = std::make_shared<std::optional<BackendConfig>>();
  BackendRegistry registry;
  registry.add({"probe-source", "declares the shared option", {Component::gpu},
                {{"probe_root", "path", "/probe", "--probe-root", "where probes are read"}},
                [](const BackendConfig&) { return Discovery{{}, "nothing here", {}}; }});
  registry.add({"probe", "a backend of a test", {Component::cpu},
                {{"probe_watts", "number", "1.5", "--probe-watts", "its power in W"},
                 {"probe_name", "string", "", "--probe-name", "its name"},
                 {"probe_domains", "list", "a,b", "--probe-domains", "its domains"}},
                [seen](const BackendConfig& c) {
                  *seen = c;
                  return Discovery{{}, "found nothing at " + c.text("probe_root"), {}};
                },
                {"probe_root"}});
  const BackendSpec& probe = registry.backends()[1];

  Options o;
  o.components = "cpu";
  BackendConfig defaults = backend_config(probe, o, registry);
  EXPECT_EQ(defaults.number("probe_watts"), 1.5);
  EXPECT_FALSE(defaults.has("probe_name"));
  EXPECT_EQ(defaults.list("probe_domains"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(defaults.text("probe_root"), "/probe");

  set_backend_option(o, probe.options[0], 2.5);
  set_backend_option(o, probe.options[1], std::string("p1"));
  set_backend_option(o, registry.backends()[0].options[0], std::string("/elsewhere"));
  EXPECT_EQ(o.backend_options.at("probe_watts"), "2.5");
  EXPECT_THROW(set_backend_option(o, probe.options[0], std::string("2.5")), std::logic_error);

  RunDiscovery run = discover_for_run(o, registry);
  ASSERT_TRUE(seen->has_value());
  const BackendConfig& given = **seen;
  EXPECT_EQ(given.number("probe_watts"), 2.5);
  EXPECT_EQ(given.text("probe_name"), "p1");
  EXPECT_EQ(given.text("probe_root"), "/elsewhere");
  EXPECT_FALSE(given.declares("powercap_root"));
  EXPECT_THROW(given.has("powercap_root"), std::logic_error);
  bool said_why = false;
  for (const auto& n : run.notes) said_why |= n.text == "  probe: found nothing at /elsewhere";
  EXPECT_TRUE(said_why);
}

TEST(BackendOptions, BackendOptionsOfNoBackendOrABadValueAreOptionsErrors) {
  auto expect_error = [](const std::map<std::string, std::string>& given, const std::string& message) {
    Options o;
    o.backend_options = given;
    try {
      validate_backend_options(o, BackendRegistry::builtin());
      ADD_FAILURE() << message;
    } catch (const OptionsError& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  };
  expect_error({{"no_such_option", "1"}}, "backend_options: no backend declares an option named 'no_such_option'");
  expect_error({{"powercap_root", "/x"}},
               "backend_options: powercap_root has its own member, Options::powercap_root; set that instead");

  BackendRegistry registry;
  registry.add({"probe", "a backend of a test", {Component::cpu}, {{"probe_watts", "number", "", "--probe-watts", "W"}},
                [](const BackendConfig&) { return Discovery{}; }});
  Options o;
  o.backend_options = {{"probe_watts", "lots"}};
  try {
    validate_backend_options(o, registry);
    ADD_FAILURE();
  } catch (const OptionsError& e) {
    EXPECT_EQ(std::string(e.what()), "backend option probe_watts: 'lots' is not a finite number");
  }
  EXPECT_THROW(backend_config(registry.backends()[0], o, registry), OptionsError);

  // The Tracker checks them before it starts (and before any log file is made).
  ewtest::TempDir logs;
  std::ostringstream console;
  Options t = ewtest::deterministic_options(std::make_shared<ManualClock>(), &console, 1);
  t.meters = ewtest::section14_meters();
  t.log_dir = logs.str();
  t.backend_options = {{"no_such_option", "1"}};
  EXPECT_THROW(Tracker{t}, OptionsError);
  EXPECT_TRUE(std::filesystem::is_empty(logs.path()));
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
