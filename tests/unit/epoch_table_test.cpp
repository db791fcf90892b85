// EpochTable (epochwatt/run.hpp): the run's epochs as rows of numbers over device columns, and the
// JSON summary's columns (schema version 3) that are written from it and read back into it.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <tuple>
#include <nlohmann/json.hpp>
#include <vector>

#include "epochwatt/epochwatt.hpp"
#include "report/json_summary.hpp"
#include "report/run_json.hpp"

namespace {

using namespace epochwatt;
using nlohmann::json;

DeviceEnergy dev(const char* id, Component c, Method m, double j, bool complete = true) {
  return {id, std::string(id) + "-name", c, m, j, complete};
}

// Three epochs over three meters: epoch 2 with an incomplete GPU entry, epoch 3 interrupted.
std::vector<EpochSummary> sample_epochs() {
  return {
      {1, 10.25, 3001.5,
       {dev("gpu0", Component::gpu, Method::counter, 2000.125), dev("cpu0", Component::cpu, Method::estimate, 1000.5),
        dev("dram0", Component::dram, Method::counter, 0.875)},
       false},
      {2, 9.75, 2800.0,
       {dev("gpu0", Component::gpu, Method::counter, 1800.0, false), dev("cpu0", Component::cpu, Method::estimate, 999.0),
        dev("dram0", Component::dram, Method::counter, 1.0)},
       false},
      {3, 0.1 + 0.2, 50.0,
       {dev("gpu0", Component::gpu, Method::counter, 30.0), dev("cpu0", Component::cpu, Method::estimate, 19.0),
        dev("dram0", Component::dram, Method::counter, 1.0)},
       true},
  };
}

void expect_same(const EpochSummary& got, const EpochSummary& want) {
  EXPECT_EQ(got.index, want.index);
  EXPECT_EQ(got.duration_s, want.duration_s);  // bit for bit
  EXPECT_EQ(got.joules, want.joules);
  EXPECT_EQ(got.interrupted, want.interrupted);
  ASSERT_EQ(got.devices.size(), want.devices.size()) << "epoch " << want.index;
  for (std::size_t k = 0; k < want.devices.size(); ++k) {
    const DeviceEnergy &a = got.devices[k], &b = want.devices[k];
    EXPECT_EQ(a.meter_id, b.meter_id);
    EXPECT_EQ(a.device_name, b.device_name);
    EXPECT_EQ(a.component, b.component);
    EXPECT_EQ(a.method, b.method);
    if (std::isnan(b.joules))
      EXPECT_TRUE(std::isnan(a.joules));
    else
      EXPECT_EQ(a.joules, b.joules);
    EXPECT_EQ(a.complete, b.complete) << "epoch " << want.index << " device " << k;
  }
}

void expect_same(const EpochTable& got, const std::vector<EpochSummary>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) expect_same(got[i], want[i]);
}

TEST(EpochTable, GivesBackTheEpochsItWasGiven) {
  const auto epochs = sample_epochs();
  EpochTable t(epochs);
  expect_same(t, epochs);
  EXPECT_EQ(t.devices().size(), 3u) << "the devices are kept once, as columns";
  expect_same(t.back(), epochs.back());
  expect_same(t.front(), epochs.front());
  std::size_t n = 0;
  for (const EpochSummary& e : t) expect_same(e, epochs[n++]);
  EXPECT_EQ(n, epochs.size());
  expect_same(EpochTable(t.to_vector()), epochs);
  EXPECT_THROW((void)t.at(3), std::out_of_range);
}

TEST(EpochTable, KeepsTheInterruptedFlagAndLeavesThatEpochOutOfTheCountedSums) {
  const auto epochs = sample_epochs();
  EpochTable t(epochs);
  EXPECT_FALSE(t.interrupted(0));
  EXPECT_FALSE(t.interrupted(1));
  EXPECT_TRUE(t.interrupted(2));
  EXPECT_EQ(t.interrupted_rows(), std::vector<std::size_t>{2});
  EXPECT_EQ(t.counted_epochs(), 2);
  EXPECT_EQ(t.counted_s(), 10.25 + 9.75);
  EXPECT_EQ(t.counted_joules(), 3001.5 + 2800.0);
  EXPECT_EQ(t.counted_device_joules(0), 2000.125 + 1800.0);
  EXPECT_EQ(t.counted_device_joules(2), 0.875 + 1.0);
  // The same footprint as from the epochs one by one.
  Consumption a = footprint_of_epochs(t, 1.58, 445.0), b = footprint_of_epochs(epochs, 1.58, 445.0);
  EXPECT_EQ(a.epochs, b.epochs);
  EXPECT_EQ(a.duration_s, b.duration_s);
  EXPECT_EQ(a.energy_kwh, b.energy_kwh);
  EXPECT_EQ(a.co2_g, b.co2_g);
}

TEST(EpochTable, KeepsIncompleteDevicesMissingEntriesNewDevicesAndNaN) {
  EpochTable t;
  t.push_back({1, 1.0, 10.0, {dev("a", Component::gpu, Method::counter, 6.0), dev("b", Component::cpu, Method::counter, 4.0)}, false});
  // b has no entry; a is incomplete (its meter was lost).
  t.push_back({2, 1.0, 5.0, {dev("a", Component::gpu, Method::counter, 5.0, false)}, false});
  // c appears; b comes back; a's figure is not a number.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  t.push_back({3, 1.0, 7.0,
               {dev("a", Component::gpu, Method::counter, nan, false), dev("b", Component::cpu, Method::counter, 3.0),
                dev("c", Component::dram, Method::estimate, 4.0)},
               false});
  // The same device twice in one epoch (two GPUs of one name in a log): two columns.
  t.push_back({4, 1.0, 2.0, {dev("b", Component::cpu, Method::counter, 1.0), dev("b", Component::cpu, Method::counter, 1.0)}, false});
  ASSERT_EQ(t.devices().size(), 4u);
  EXPECT_FALSE(t.device_joules(0, 2).has_value()) << "c had no entry before it appeared";
  EXPECT_FALSE(t.device_joules(1, 1).has_value());
  EXPECT_TRUE(t.device_joules(2, 0).has_value()) << "NaN is a value, not a missing entry";
  EXPECT_FALSE(t.device_complete(1, 0));
  EXPECT_TRUE(t.device_complete(0, 0));
  expect_same(t[1], {2, 1.0, 5.0, {dev("a", Component::gpu, Method::counter, 5.0, false)}, false});
  expect_same(t[2], {3, 1.0, 7.0,
                     {dev("a", Component::gpu, Method::counter, nan, false), dev("b", Component::cpu, Method::counter, 3.0),
                      dev("c", Component::dram, Method::estimate, 4.0)},
                     false});
  expect_same(t[3], {4, 1.0, 2.0, {dev("b", Component::cpu, Method::counter, 1.0), dev("b", Component::cpu, Method::counter, 1.0)}, false});
}

// Issue 13: 100,000 epochs with 8 meters add under 10 MB. The rows hold 4 + 8 + 8 + 8 x 8 = 84
// bytes per epoch; the blocks of the deques add a little.
TEST(EpochTable, HoldsUnderOneHundredBytesPerEpochWithEightMeters) {
  EpochSummary e{0, 1.0, 8.0, {}, false};
  for (int m = 0; m < 8; ++m)
    e.devices.push_back(dev(("meter" + std::to_string(m)).c_str(), m < 4 ? Component::gpu : Component::cpu, Method::counter, 1.0));
  EpochTable t;
  constexpr int kEpochs = 100000;
  for (int i = 1; i <= kEpochs; ++i) {
    e.index = i;
    t.push_back(e);
  }
  EXPECT_EQ(t.size(), static_cast<std::size_t>(kEpochs));
  EXPECT_LT(static_cast<double>(t.row_bytes()) / kEpochs, 100.0);
  EXPECT_EQ(t.counted_epochs(), kEpochs);
  EXPECT_EQ(t.back().devices.size(), 8u);
}

TEST(EpochTable, PredictsAsTheEpochsOneByOneDo) {
  std::vector<EpochSummary> epochs;
  for (int i = 1; i <= 40; ++i)
    epochs.push_back({i, 10.0 + 0.01 * (i % 7), 3000.0 + 5.0 * (i % 5), {dev("g", Component::gpu, Method::counter, 1.0)}, false});
  EpochTable t(epochs);
  for (PredictionRule rule : {PredictionRule::steady_epochs, PredictionRule::carbontracker}) {
    PredictionInput in;
    in.planned = 100;
    in.rule = rule;
    Prediction a = predict_run(t, in), b = predict_run(epochs, in);
    EXPECT_EQ(a.footprint.duration_s, b.footprint.duration_s);
    EXPECT_EQ(a.footprint.energy_kwh, b.footprint.energy_kwh);
    EXPECT_EQ(a.detail.steady_epochs, b.detail.steady_epochs);
    EXPECT_EQ(a.detail.energy_kwh.low, b.detail.energy_kwh.low);
  }
  PredictionBasis a = prediction_basis(t, 5, true), b = prediction_basis(epochs, 5, true);
  EXPECT_EQ(a.epochs_used, b.epochs_used);
  EXPECT_EQ(a.joules, b.joules);
  EXPECT_EQ(a.measured_s, b.measured_s);
}

// ---- the JSON summary's columns

epochwatt::Run sample_run() {
  epochwatt::Run r;
  r.context.tool_name = "epochwatt";
  for (auto [id, c, m] : {std::tuple{"gpu0", Component::gpu, Method::counter},
                          std::tuple{"cpu0", Component::cpu, Method::estimate},
                          std::tuple{"dram0", Component::dram, Method::counter}}) {
    MeterInfo info;
    info.id = id;
    info.component = c;
    info.device_name = std::string(id) + "-name";
    info.method = m;
    r.context.meters.push_back(info);
  }
  r.epochs = sample_epochs();
  r.actual = footprint_of_epochs(r.epochs, 1.58, 445.0, "world-average");
  return r;
}

TEST(EpochTableJson, TheSummaryWritesColumnsAndReadsThemBackExactly) {
  const epochwatt::Run r = sample_run();
  const std::string text = detail::to_json(r);
  json j = json::parse(text);
  const json& t = j.at("epochs");
  EXPECT_EQ(t["layout"], "columns");
  EXPECT_EQ(t["count"], 3);
  EXPECT_EQ(t["epoch"], json({1, 2, 3}));
  EXPECT_EQ(t["interrupted_rows"], json({2}));
  ASSERT_EQ(t["devices"].size(), 3u);
  EXPECT_EQ(t["devices"][0]["meter"], "gpu0");
  EXPECT_EQ(t["devices"][0]["incomplete_rows"], json({1}));
  EXPECT_EQ(t["devices"][1]["method"], "estimate");
  EXPECT_EQ(t["devices"][1]["joules"], json({1000.5, 999.0, 19.0}));
  // Each column on one line: the file grows by a number per device and epoch, not by a line.
  EXPECT_NE(text.find("\"duration_s\": [10.25, 9.75, 0.30000000000000004]"), std::string::npos) << text;

  epochwatt::Run back = j.get<epochwatt::Run>();
  expect_same(back.epochs, sample_epochs());
  // The streamed text and nlohmann's tree say the same.
  EXPECT_EQ(json::parse(nlohmann::ordered_json(r).dump()), j);
}

TEST(EpochTableJson, ASummaryInPiecesIsTheSameText) {
  epochwatt::Run r = sample_run();
  for (int i = 4; i <= 5000; ++i)
    r.epochs.push_back({i, 1.0 / i, 7.0 * i, {dev("gpu0", Component::gpu, Method::counter, 3.0 * i)}, false});
  std::string pieces;
  int n = 0;
  detail::write_json_summary(r, [&](std::string_view piece) {
    pieces += piece;
    ++n;
    return true;
  });
  EXPECT_GT(n, 2) << "written in pieces, not as one string";
  EXPECT_EQ(pieces, detail::to_json(r));
  epochwatt::Run back = json::parse(pieces).get<epochwatt::Run>();
  ASSERT_EQ(back.epochs.size(), r.epochs.size());
  expect_same(back.epochs[4999 - 1], r.epochs[4999 - 1]);
}

// Summaries of schema versions 1 and 2 list one object per epoch: `epochwatt report` and from_json
// still read them, into the same table.
TEST(EpochTableJson, ReadsTheEpochObjectsOfOlderSummaries) {
  const epochwatt::Run r = sample_run();
  json j = json::parse(detail::to_json(r));
  json old = json::array();
  for (const auto& e : sample_epochs()) {
    json devices = json::array();
    for (const auto& d : e.devices)
      devices.push_back({{"meter", d.meter_id}, {"device", d.device_name}, {"component", std::string(to_string(d.component))},
                         {"method", std::string(to_string(d.method))}, {"joules", d.joules}, {"complete", d.complete}});
    old.push_back({{"epoch", e.index}, {"interrupted", e.interrupted}, {"duration_s", e.duration_s},
                   {"joules", e.joules}, {"devices", devices}});
  }
  // A device that names only its meter takes the rest from the context's devices.
  old[0]["devices"][1] = {{"meter", "cpu0"}, {"joules", 1000.5}, {"complete", true}};
  j["epochs"] = old;
  j["context"]["json_schema_version"] = 2;
  epochwatt::Run back = j.get<epochwatt::Run>();
  expect_same(back.epochs, sample_epochs());
}

TEST(EpochTableJson, DamagedColumnsKeepTheirDefaults) {
  json j = json::parse(detail::to_json(sample_run()));
  json& t = j["epochs"];
  t["duration_s"][1] = "long";
  t["joules"] = 7;                                  // not an array: every epoch's figure is 0
  t["interrupted_rows"] = json({2, 99, -1, "x"});   // rows that do not exist are ignored
  t["devices"][0]["joules"][0] = nullptr;           // no entry
  t["devices"][0]["joules"].erase(2);               // too short: no entry
  t["devices"][1]["incomplete_rows"] = 3;           // not an array: all complete
  t["epoch"][1] = 1e300;                            // out of range: the row's position + 1
  epochwatt::Run back = j.get<epochwatt::Run>();
  ASSERT_EQ(back.epochs.size(), 3u);
  EXPECT_EQ(back.epochs.duration_s(1), 0.0);
  EXPECT_EQ(back.epochs.joules(0), 0.0);
  EXPECT_EQ(back.epochs.index(1), 2);
  EXPECT_EQ(back.epochs.interrupted_rows(), std::vector<std::size_t>{2});
  EXPECT_EQ(back.epochs[0].devices.size(), 2u);
  EXPECT_EQ(back.epochs[1].devices.size(), 3u);
  EXPECT_EQ(back.epochs[2].devices.size(), 2u);
}

}  // namespace
