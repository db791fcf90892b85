#include "report/output_sink.hpp"

#include <cstdio>
#include <exception>
#include <random>

#include "report/jsonl_output.hpp"
#include "report/prometheus_output.hpp"

namespace epochwatt::detail {

std::string make_run_id() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  std::uint64_t hi = gen(), lo = gen();
  hi = (hi & ~0xF000ull) | 0x4000ull;                          // version 4
  lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);           // variant 10xx
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32), static_cast<unsigned long long>((hi >> 16) & 0xFFFF),
                static_cast<unsigned long long>(hi & 0xFFFF), static_cast<unsigned long long>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

OutputSink::OutputSink(std::vector<OutputSpec> outputs, std::string proc_root, Warn warn)
    : proc_root_(std::move(proc_root)), warn_(std::move(warn)) {
  for (auto& o : outputs) targets_.push_back({std::move(o), 0, false});
}

void OutputSink::fail(Target& t, const std::string& what) {
  if (t.warned) return;
  t.warned = true;
  const char* name = t.spec.format == OutputSpec::Format::csv     ? "CSV"
                     : t.spec.format == OutputSpec::Format::jsonl ? "JSON Lines"
                                                                  : "Prometheus";
  try {
    if (warn_) warn_(std::string(name) + " output not written: " + what + ". The run goes on without it.");
  } catch (...) {
    // The warning itself failed (err log unwritable): nothing more can be said.
  }
}

void OutputSink::write(Target& t, const RunRecord& r, bool finished) {
  switch (t.spec.format) {
    case OutputSpec::Format::jsonl: {
      std::string text;
      for (std::size_t i = t.epochs_written; i < r.epochs.size(); ++i) text += jsonl_epoch_line(r, r.epochs[i]);
      if (finished) text += jsonl_run_line(r);
      if (text.empty()) return;
      std::string err = append_to_file(t.spec.path, text);
      if (!err.empty()) return fail(t, err);
      t.epochs_written = r.epochs.size();
      return;
    }
    case OutputSpec::Format::prometheus: {
      std::string err = write_file_atomically(t.spec.path, prometheus_text(r));
      if (!err.empty()) fail(t, err);
      return;
    }
    case OutputSpec::Format::csv: {
      if (!finished) return;
      CsvAppendResult res = append_codecarbon_row(t.spec.path, codecarbon_row(r, read_host_facts(proc_root_)));
      if (!res.error.empty()) return fail(t, res.error);
      if (!res.warning.empty() && warn_) warn_("CSV output: " + res.warning);
      return;
    }
  }
}

// Every target; a target that fails is warned about once, and the others are still written.
void OutputSink::write_all(const RunRecord& r, bool finished) noexcept {
  for (auto& t : targets_) {
    try {
      write(t, r, finished);
    } catch (const std::exception& e) {
      fail(t, e.what());
    } catch (...) {
      fail(t, "unknown error");
    }
  }
}

void OutputSink::epoch_ended(const RunRecord& snapshot) noexcept {
  if (finished_) return;
  write_all(snapshot, false);
}

void OutputSink::run_finished(const RunRecord& record) noexcept {
  if (finished_) return;
  finished_ = true;
  write_all(record, true);
}

}  // namespace epochwatt::detail
