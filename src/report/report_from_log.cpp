#include "report/report_from_log.hpp"

#include "report/run_from_log.hpp"

namespace epochwatt::detail {

ReportData report_data_from_parsed_run(const ParsedRun& run) {
  const Run model = run_from_log(run);
  ReportData d = report_data_from_run(model);
  if (model.context.tool_name.empty()) d.tool = "unknown writer";
  d.source = run.output_log.empty() ? run.std_log : run.std_log + " and " + run.output_log;
  d.started_utc = run.started;  // the log's own time stamps (local time of the machine that wrote it)
  d.finished_utc = run.finished;
  d.location = run.address;
  if (model.context.epochs_planned <= 0) {
    d.epochs_planned = run.monitor_epochs ? *run.monitor_epochs : run.epochs_done();
    PredictionInput how;
    how.planned = d.epochs_planned;
    how.pue = d.pue;
    how.rule = d.prediction_rule;
    how.skip_first = d.prediction_skips_first_epoch;
    how.setup = d.setup;
    d.prediction_series = prediction_series(d.epochs, how);
  }

  // Power over time: one point per counted epoch at its middle (the log holds nothing finer).
  double t = 0;
  std::vector<ReportPowerSeries> power;
  for (const auto& c : run.components) power.push_back({c.name, {}, {}});
  for (const auto& e : run.epochs) {
    double dur = e.duration_s.value_or(0.0);
    if (!e.interrupted)
      for (auto& s : power)
        if (const ParsedPower* p = e.power(s.component); p && p->watts) {
          s.t_s.push_back(t + dur / 2);
          s.watts.push_back(*p->watts);
        }
    t += dur;
  }
  d.power.clear();
  for (auto& s : power)
    if (!s.t_s.empty()) d.power.push_back(std::move(s));
  d.power_caption = "Mean power of each component in each epoch, as the log records it (one point per epoch, at "
                    "its middle: the log holds nothing finer); without PUE.";

  // The sentence for a paper, with the block spec §8.7 picks (the measured one for a log read
  // alone), crediting whoever wrote the log (Aggregate::measured_by).
  Aggregate a = aggregate({run});
  if (!run.actual && !run.predicted) {
    a.energy_kwh = d.actual.energy_kwh;
    a.co2_g = d.actual.co2_g;
    a.equivalents = {{"km travelled by car", d.actual.km_by_car}};
  }
  EnergyByBasis basis = energy_by_basis(d.devices);
  d.energy_basis = basis_words(basis);
  d.aggregate_sentence = citation_sentence(a.energy_kwh, a.co2_g, a.equivalents, basis,
                                           summed_block(run) == SummedBlock::predicted, a.measured_by.empty()
                                                                                            ? kMeasuredByCarbontracker
                                                                                            : std::string_view(a.measured_by));
  return d;
}

}  // namespace epochwatt::detail
