// EpochTable (epochwatt/run.hpp): the run's epochs as rows of numbers over device columns.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "epochwatt/run.hpp"

namespace epochwatt {

namespace {

// The cell of an epoch without an entry for that column: a NaN with a payload of our own, so
// that a NaN a meter or a log gave stays a value (it reads back as a quiet NaN, an entry).
constexpr std::uint64_t kNoEntryBits = 0x7ff4'0e90'c4a7'7ab1ULL;  // signalling NaN, arbitrary payload
double no_entry() { return std::bit_cast<double>(kNoEntryBits); }
bool is_no_entry(double v) { return std::bit_cast<std::uint64_t>(v) == kNoEntryBits; }

bool same_device(const EpochTable::Device& c, const DeviceEnergy& d) {
  return c.component == d.component && c.method == d.method && c.meter_id == d.meter_id &&
         c.device_name == d.device_name;
}

}  // namespace

EpochTable::EpochTable(std::initializer_list<EpochSummary> epochs) {
  for (const auto& e : epochs) push_back(e);
}

EpochTable::EpochTable(const std::vector<EpochSummary>& epochs) {
  for (const auto& e : epochs) push_back(e);
}

EpochTable& EpochTable::operator=(const std::vector<EpochSummary>& epochs) {
  clear();
  for (const auto& e : epochs) push_back(e);
  return *this;
}

void EpochTable::clear() { *this = EpochTable(); }

std::size_t EpochTable::column_for(const DeviceEnergy& d, std::vector<bool>& used) {
  // The first column of the same device not yet used by this epoch, else a new one.
  for (std::size_t c = 0; c < devices_.size(); ++c)
    if (!used[c] && same_device(devices_[c], d)) return c;
  devices_.push_back({d.meter_id, d.device_name, d.component, d.method});
  cells_.emplace_back(size(), no_entry());  // the earlier rows hold no entry there
  counted_cells_.push_back(0.0);
  used.push_back(false);
  return devices_.size() - 1;
}

void EpochTable::push_back(const EpochSummary& e) {
  const std::size_t row = size();
  std::vector<bool> used(devices_.size(), false);
  std::vector<double> value(devices_.size(), no_entry());
  const std::size_t first_incomplete = incomplete_.size();
  for (const auto& d : e.devices) {
    std::size_t c = column_for(d, used);
    if (value.size() < devices_.size()) value.resize(devices_.size(), no_entry());
    used[c] = true;
    value[c] = d.joules;
    if (!d.complete) incomplete_.emplace_back(row, c);
  }
  // The incomplete cells of this row in column order, so that the list is ascending.
  std::sort(incomplete_.begin() + static_cast<std::ptrdiff_t>(first_incomplete), incomplete_.end());
  index_.push_back(e.index);
  duration_.push_back(e.duration_s);
  joules_.push_back(e.joules);
  for (std::size_t c = 0; c < devices_.size(); ++c) cells_[c].push_back(value[c]);
  if (e.interrupted) {
    interrupted_.push_back(row);
    return;
  }
  ++counted_;
  counted_s_ += e.duration_s;
  counted_j_ += e.joules;
  for (std::size_t c = 0; c < devices_.size(); ++c)
    if (!is_no_entry(value[c])) counted_cells_[c] += value[c];
}

bool EpochTable::interrupted(std::size_t i) const {
  return std::binary_search(interrupted_.begin(), interrupted_.end(), i);
}

std::optional<double> EpochTable::device_joules(std::size_t i, std::size_t c) const {
  double v = cells_[c][i];
  if (is_no_entry(v)) return std::nullopt;
  return v;
}

bool EpochTable::device_complete(std::size_t i, std::size_t c) const {
  return !std::binary_search(incomplete_.begin(), incomplete_.end(), std::pair<std::size_t, std::size_t>{i, c});
}

EpochSummary EpochTable::operator[](std::size_t i) const {
  EpochSummary e;
  e.index = index_[i];
  e.duration_s = duration_[i];
  e.joules = joules_[i];
  e.interrupted = interrupted(i);
  for (std::size_t c = 0; c < devices_.size(); ++c) {
    double v = cells_[c][i];
    if (is_no_entry(v)) continue;
    const Device& k = devices_[c];
    e.devices.push_back({k.meter_id, k.device_name, k.component, k.method, v, device_complete(i, c)});
  }
  return e;
}

EpochSummary EpochTable::at(std::size_t i) const {
  if (i >= size()) throw std::out_of_range("EpochTable::at: row " + std::to_string(i) + " of " + std::to_string(size()));
  return (*this)[i];
}

std::vector<EpochSummary> EpochTable::to_vector() const {
  std::vector<EpochSummary> out;
  out.reserve(size());
  for (std::size_t i = 0; i < size(); ++i) out.push_back((*this)[i]);
  return out;
}

std::size_t EpochTable::row_bytes() const {
  auto bytes = [](const auto& dq) { return dq.size() * sizeof(typename std::decay_t<decltype(dq)>::value_type); };
  std::size_t n = bytes(index_) + bytes(duration_) + bytes(joules_);
  for (const auto& c : cells_) n += bytes(c);
  return n + interrupted_.capacity() * sizeof(std::size_t) +
         incomplete_.capacity() * sizeof(std::pair<std::size_t, std::size_t>);
}

}  // namespace epochwatt
