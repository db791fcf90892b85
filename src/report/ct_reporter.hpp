// carbontracker's console and log files as a Reporter: the original's three channels, line
// formats and report blocks (spec §5, §6), written through a CtLogger.
#pragma once

#include <memory>

#include "epochwatt/reporter.hpp"
#include "report/ct_logs.hpp"

namespace epochwatt::detail {

class CarbontrackerReporter final : public Reporter {
 public:
  explicit CarbontrackerReporter(std::shared_ptr<CtLogger> logger) : log_(std::move(logger)) {}
  void run_started(const Run& run) override;
  void meters_ready(const Run& run) override;
  void sampling_started(const Run& run) override;
  void message(const Message& m) override;
  void epoch_ended(const Run& run) override;
  void predicted(const Run& run) override;
  void prediction_moved(const Run& run) override;
  void run_finished(const Run& run) override;
  void job_reported(const RunContext& context, const JobFootprint& job) override;
  void flush() override { log_->flush(); }

 private:
  // The logger's notices about its own files (a log directory not made, a log file not written)
  // into the run's warnings; from the events of the constructing and the sampler thread only,
  // as Reporter::warn asks. The logger has shown them on the console already.
  void pass_notices();
  // The output channel for this rank's own report lines: the console and the output log, or the
  // output log alone where a job-wide reduction prints the job's blocks instead (job_reduction).
  void own_output(const RunContext& ctx, const std::string& text);
  std::shared_ptr<CtLogger> log_;
};

}  // namespace epochwatt::detail
