// The run model in JSON, by nlohmann's own mechanism: one to_json and one from_json per type, so
// that the JSON summary is written (json_summary.cpp) and read back (`epochwatt report`,
// html_report.cpp) by the same definitions. Field names and units: docs/json-summary.md.
//
// Reading is tolerant, as a report of an older or hand-edited file should be: a missing or
// mistyped field keeps its default; an unknown component or method string reads as the default.
#pragma once

#include <nlohmann/json.hpp>

#include "epochwatt/run.hpp"

namespace epochwatt {

void to_json(nlohmann::ordered_json& j, const MeterInfo& m);
void from_json(const nlohmann::json& j, MeterInfo& m);
void to_json(nlohmann::ordered_json& j, const DeviceEnergy& d);
void from_json(const nlohmann::json& j, DeviceEnergy& d);
void to_json(nlohmann::ordered_json& j, const EpochSummary& e);
void from_json(const nlohmann::json& j, EpochSummary& e);
// The epochs as columns (schema version 3, docs/json-summary.md): {"layout": "columns", "count",
// "epoch": [...], "duration_s": [...], "joules": [...], "interrupted_rows": [...], "devices":
// [{"meter", "device", "component", "method", "joules": [... null: no entry], "incomplete_rows"}]}.
// from_json reads that or the array of epoch objects of versions 1 and 2.
void to_json(nlohmann::ordered_json& j, const EpochTable& t);
void from_json(const nlohmann::json& j, EpochTable& t);
// The same reader, where device entries that name only their meter take its component, device
// name and method from `meters` (the context block's devices).
void read_epochs(const nlohmann::json& j, const std::vector<MeterInfo>& meters, EpochTable& out);
void to_json(nlohmann::ordered_json& j, const Consumption& c);
void from_json(const nlohmann::json& j, Consumption& c);
void to_json(nlohmann::ordered_json& j, const Setup& s);
void from_json(const nlohmann::json& j, Setup& s);
void to_json(nlohmann::ordered_json& j, const PredictionDetail& d);
void from_json(const nlohmann::json& j, PredictionDetail& d);
// A Consumption's keys plus "detail": the PredictionDetail.
void to_json(nlohmann::ordered_json& j, const Prediction& p);
void from_json(const nlohmann::json& j, Prediction& p);
void to_json(nlohmann::ordered_json& j, const PowerSeries& p);
void from_json(const nlohmann::json& j, PowerSeries& p);
// The context block, {"tool", "version", "json_schema_version" (kJsonSchemaVersion), "run_id",
// "host", ...}: the same definition in the JSON summary and in every JSON Lines record, so that
// from_json reads either. Written whole: from_json(to_json(c)) gives c back.
void to_json(nlohmann::ordered_json& j, const RunContext& c);
// context.job: {"job_id", "step_id", "rank", "local_rank", "world_size", "local_world_size",
// "node", "node_rank", "launcher"} (docs/json-summary.md); absent in older summaries.
void to_json(nlohmann::ordered_json& j, const JobIdentity& id);
void from_json(const nlohmann::json& j, JobIdentity& id);
void from_json(const nlohmann::json& j, RunContext& c);
// The whole JSON summary: {"context": {...}, "finished_utc", "log_files", "epochs": [...],
// "prediction", "actual", ...}. Reads schema version 1 too (finished_utc and log_files in context).
void to_json(nlohmann::ordered_json& j, const Run& r);
void from_json(const nlohmann::json& j, Run& r);

namespace detail {
// The JSON summary without its epochs ("epochs" is null, in its place): to_json(Run) adds them as a
// tree; the summary's writer (json_summary.cpp) streams them into the text.
nlohmann::ordered_json run_json_except_epochs(const Run& r);
// The tolerant reader's one lookup: j[key], or null when j is not an object or has no such key.
const nlohmann::json& json_field(const nlohmann::json& j, const char* key);
}  // namespace detail

}  // namespace epochwatt
