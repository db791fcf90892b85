// The standard log's job line: which process of a multi-process job wrote the log (issue 14,
// docs/cluster.md "A job report from the files"). Written by CarbontrackerReporter after the PUE
// line, only when the job has more than one process (JobIdentity::multi_process()), so a
// single-process run's log is what it always was; read back by log_parse (ParsedRun::job).
//
// The line is `Job identity: {JSON object}`, one line, for example
//   Job identity: {"job_id":"4242","step_id":"0","rank":1,"local_rank":1,"world_size":4,
//                  "local_world_size":2,"node":"n1","node_rank":0,"launcher":"slurm"}
// (written without the break). carbontracker's parser and report.py match none of its words
// (spec §8.2, §8.6, §8.9), so the original still reads the log.
//
// Thread-safety: free functions on values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "epochwatt/job.hpp"
#include "epochwatt/meter.hpp"

namespace epochwatt::detail {

inline constexpr std::string_view kJobLinePrefix = "Job identity: ";

// The job line's text (without the time stamp): kJobLinePrefix and the identity as a JSON object
// of the fields of JobIdentity, in declaration order. Invalid UTF-8 in a name is replaced (U+FFFD).
std::string job_line(const JobIdentity& job);

// The identity of a job line's text (the message after `<ts> - `). On a line that starts with
// kJobLinePrefix but cannot be read (not JSON, a field of the wrong type, rank outside
// 0..world_size-1, world_size < 1): nullopt and `error` says why in a few words. Fields absent
// from the object keep JobIdentity's defaults (a newer writer may add fields; an older one
// may have fewer).
std::optional<JobIdentity> parse_job_line(std::string_view message, std::string* error = nullptr);

// The shared-meters line: the meters of this process that the node election shares with the job's
// other processes (MeterInfo::shared not empty: a node-wide meter, or a GPU claimed by its
// hardware id), so that `parse --by-job` adds their energies up across ranks (the election makes
// them disjoint in time: one holder at a time) instead of taking them for one device measured
// twice. `Job shared meters: {"rapl:0":"node","nvml:0":"device"}`, written after the `Measuring`
// lines; "" (no line) when no meter is shared.
inline constexpr std::string_view kSharedMetersPrefix = "Job shared meters: ";
std::string shared_meters_line(const std::vector<MeterInfo>& meters);
// The meter ids of a shared-meters line's text; nullopt (and `error`) when it cannot be read.
std::optional<std::vector<std::string>> parse_shared_meters_line(std::string_view message, std::string* error = nullptr);

// The part of a log file's name that tells a rank's files apart: "rank{N}" for a rank other than
// 0 of a multi-process job, else "" (rank 0 and single processes keep carbontracker's names).
std::string rank_file_tag(const JobIdentity& job);

}  // namespace epochwatt::detail
