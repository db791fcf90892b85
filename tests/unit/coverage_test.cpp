// What a run's total covers (issue 12, items 3 and 4): discovery notes that change the coverage
// reach the run as warnings; a meter that covers other components is their only meter, so nothing
// is counted twice; and every figure names its method.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/format.hpp"
#include "epochwatt/registry.hpp"
#include "epochwatt/tracker.hpp"
#include "meters/hwmon/hwmon.hpp"
#include "meters/nvml/nvml.hpp"
#include "meters/simulated/simulated.hpp"
#include "report/ct_report.hpp"
#include "report/html_report.hpp"

using namespace epochwatt;

namespace {

std::shared_ptr<Meter> meter(const std::string& id, Component c, Method m, std::vector<Component> also = {}) {
  MeterInfo info;
  info.id = id;
  info.component = c;
  info.device_name = id;
  info.method = m;
  info.also_covers = std::move(also);
  if (!info.also_covers.empty()) info.coverage = "the test says so";
  return meters::make_constant_power_meter(std::move(info), 10.0);
}

std::vector<std::string> ids(const RunDiscovery& d) {
  std::vector<std::string> out;
  for (const auto& m : d.meters) out.push_back(m->info().id);
  return out;
}

bool any_note(const RunDiscovery& d, const std::string& text) {
  for (const auto& n : d.notes)
    if (n.text.find(text) != std::string::npos) return true;
  return false;
}

// A registry of two backends: "module" (a GPU meter that may cover the CPU and memory) and
// "estimate" (CPU and DRAM estimates), counting how often each discovers.
struct TwoBackends {
  BackendRegistry registry;
  std::shared_ptr<int> module_calls = std::make_shared<int>(0), estimate_calls = std::make_shared<int>(0);
  explicit TwoBackends(std::vector<Component> module_covers, std::vector<DiscoveryNote> module_notes = {}) {
    auto mc = module_calls;
    auto ec = estimate_calls;
    registry.add({"module", "a GPU module", {Component::gpu}, {}, [=](const BackendConfig&) {
                    ++*mc;
                    return Discovery{{meter("module:0", Component::gpu, Method::counter, module_covers)}, "", module_notes};
                  }});
    registry.add({"estimate", "CPU and DRAM estimates", {Component::cpu, Component::dram}, {}, [=](const BackendConfig&) {
                    ++*ec;
                    return Discovery{{meter("estimate:cpu", Component::cpu, Method::estimate),
                                      meter("estimate:dram", Component::dram, Method::estimate)},
                                     "",
                                     {coverage_note("a note of a backend the run may not use")}};
                  }});
  }
};

}  // namespace

TEST(Coverage, NotesThatChangeTheTotalReachTheRunPrefixedWithTheirBackend) {
  TwoBackends b({}, {DiscoveryNote("NVIDIA driver 1.0"), coverage_note("GPU 1 (X) cannot be measured")});
  Options o;
  o.components = "gpu";
  RunDiscovery d = discover_for_run(o, b.registry);
  EXPECT_EQ(d.coverage_warnings, (std::vector<std::string>{"module: GPU 1 (X) cannot be measured"}));
  // The estimate backend was neither asked nor reported.
  EXPECT_EQ(*b.estimate_calls, 0);
}

TEST(Coverage, ACoveringMeterIsTheOnlyMeterOfWhatItCovers) {
  TwoBackends b({Component::cpu, Component::dram});
  Options o;  // components "all": gpu, then cpu
  RunDiscovery d = discover_for_run(o, b.registry);
  EXPECT_EQ(ids(d), (std::vector<std::string>{"module:0"}));
  EXPECT_EQ(*b.estimate_calls, 0) << "the covered component is not even discovered";
  EXPECT_TRUE(any_note(d, "module:0 (module:0, counter) covers cpu and dram as well as its gpu: the test says so"));
  EXPECT_FALSE(any_note(d, "No CPU(s) available."));
  EXPECT_TRUE(d.coverage_warnings.empty());
}

TEST(Coverage, AMeterFoundBeforeItsCovererIsDroppedAndNamed) {
  TwoBackends b({Component::cpu});  // an APU: the CPU, not the memory
  Options o;
  o.components = "cpu,gpu";
  RunDiscovery d = discover_for_run(o, b.registry);
  EXPECT_EQ(ids(d), (std::vector<std::string>{"estimate:dram", "module:0"}));
  EXPECT_TRUE(any_note(d, "left out: estimate:cpu (estimate)"));
  // The estimate backend's meters are used (DRAM): its coverage notes are the run's too.
  EXPECT_EQ(d.coverage_warnings, (std::vector<std::string>{"estimate: a note of a backend the run may not use"}));
}

TEST(Coverage, TheTrackerWarnsOfEachCoverageNoteOnEverySurface) {
  struct Recorder : Reporter {
    std::vector<Message> messages;
    std::vector<std::string> warnings_at_end;
    void message(const Message& m) override { messages.push_back(m); }
    void run_finished(const epochwatt::Run& r) override { warnings_at_end = r.warnings; }
  };
  auto rec = std::make_shared<Recorder>();
  TrackerParts parts;
  parts.meters = {meter("sim:gpu", Component::gpu, Method::simulated)};
  parts.coverage_warnings = {"nvml: GPU 1 (NVIDIA GeForce 940MX) cannot be measured"};
  parts.reporters = {rec};
  Options o;
  o.epochs = 1;
  {
    Tracker t(o, parts);
    t.stop();
  }
  bool warned = false;
  for (const auto& m : rec->messages)
    warned |= m.channel == Message::Channel::err && m.severity == Severity::warning &&
              m.text == "nvml: GPU 1 (NVIDIA GeForce 940MX) cannot be measured";
  EXPECT_TRUE(warned);
  EXPECT_NE(std::find(rec->warnings_at_end.begin(), rec->warnings_at_end.end(), parts.coverage_warnings[0]),
            rec->warnings_at_end.end());
}

TEST(Coverage, SuperchipModulesAreRecognisedByWholeWord) {
  for (const char* yes : {"NVIDIA GH200 480GB", "NVIDIA GH200 144G HBM3e", "NVIDIA GB200", "nvidia gb300", "GH200"})
    EXPECT_TRUE(meters::is_superchip_module(yes)) << yes;
  for (const char* no : {"NVIDIA H100 80GB HBM3", "NVIDIA H200", "NVIDIA B200", "XGH200", "NVIDIA GH2000", ""})
    EXPECT_FALSE(meters::is_superchip_module(no)) << no;
  EXPECT_NE(meters::kSuperchipCoverage.find("https://docs.nvidia.com/"), std::string_view::npos);
}

TEST(Coverage, MethodsAreNamedAndSplitIntoMeasuredAndEstimated) {
  using namespace epochwatt::detail;
  EXPECT_EQ(method_phrase(Component::cpu, Method::estimate), "estimate: TDP x utilisation");
  EXPECT_EQ(method_phrase(Component::gpu, Method::counter), "measured: energy counter");
  EXPECT_EQ(basis_of(Method::simulated), Basis::estimated);
  EXPECT_EQ(basis_of(Method::sampled_power), Basis::measured);

  ComponentDevices cpu{"cpu", {"AMD EPYC 7763"}, {"estimate: TDP x utilisation"}};
  EXPECT_EQ(components_segments({cpu}), "CPU with device(s) AMD EPYC 7763 (estimate: TDP x utilisation).");
  cpu.methods.clear();
  EXPECT_EQ(components_segments({cpu}), "CPU with device(s) AMD EPYC 7763.") << "the logs' exact line";

  EnergyByBasis e;
  add_energy(e, Component::cpu, Method::estimate, 90.0);
  EXPECT_EQ(basis_sentence(e), "Of this energy, all was estimated, not measured (CPU: TDP x utilisation).");
  add_energy(e, Component::gpu, Method::counter, 270.0);
  add_energy(e, Component::dram, Method::estimate, 0.0);
  EXPECT_EQ(basis_sentence(e), "Of this energy, 75% was measured (GPU: energy counter) and 25% estimated "
                               "(CPU: TDP x utilisation; DRAM: installed memory x W/GB).");
  EXPECT_EQ(basis_sentence(EnergyByBasis{}), "");
}

TEST(Coverage, TheCitationSentenceSaysEstimatedWhereThatIsTrue) {
  using namespace epochwatt::detail;
  const std::vector<std::pair<std::string, double>> km = {{"km travelled by car", 0.019201388889}};
  EnergyByBasis estimated, measured, mixed;
  add_energy(estimated, Component::cpu, Method::estimate, 100.0);
  add_energy(measured, Component::gpu, Method::counter, 100.0);
  add_energy(mixed, Component::gpu, Method::counter, 200.0);
  add_energy(mixed, Component::cpu, Method::estimate, 100.0);
  std::string by = "epochwatt";
  EXPECT_EQ(citation_sentence(0.004608333333, 2.050708333333, km, estimated, false, by),
            "The training of models in this work is estimated to use 0.004608 kWh of electricity, not measured "
            "(CPU: TDP x utilisation), contributing to 0.002051 kg of CO2eq. This is equivalent to 0.0192 km "
            "travelled by car. Estimated by epochwatt.");
  EXPECT_EQ(citation_sentence(0.004608333333, 2.050708333333, km, measured, false, by),
            "The training of models in this work used 0.004608 kWh of electricity, measured (GPU: energy counter), "
            "contributing to 0.002051 kg of CO2eq. This is equivalent to 0.0192 km travelled by car. Measured by "
            "epochwatt.");
  EXPECT_EQ(citation_sentence(1.5, 150, {}, mixed, false, by),
            "The training of models in this work used 1.5 kWh of electricity, of which 66.7% was measured (GPU: energy "
            "counter) and 33.3% estimated (CPU: TDP x utilisation), contributing to 0.15 kg of CO2eq. Measured and "
            "estimated by epochwatt.");
  EXPECT_NE(citation_sentence(1.5, 150, {}, estimated, true, by).find("is predicted to use 1.5 kWh of electricity, "
                                                                     "extrapolated from epochs whose energy was "
                                                                     "estimated, not measured"),
            std::string::npos);
  EXPECT_EQ(basis_words(mixed), "66.7% measured, 33.3% estimated");
}

TEST(Coverage, ReadableNumbersHaveNoBinaryNoise) {
  using epochwatt::detail::readable;
  EXPECT_EQ(readable(273.59999999999997), "273.6");  // `epochwatt devices` once printed the noise
  EXPECT_EQ(readable(0.000123456), "0.0001235");
  EXPECT_EQ(readable(1234567.0), "1234567");
  EXPECT_EQ(readable(9.99996), "10");
  EXPECT_EQ(readable(-2.5), "-2.5");
  EXPECT_EQ(readable(0.0), "0");
  EXPECT_EQ(readable(0.1 + 0.2, 6), "0.3");
  EXPECT_EQ(readable(std::numeric_limits<double>::infinity()), "inf");
}
