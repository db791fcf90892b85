// `epochwatt parse --by-job DIR...`: the runs of multi-process jobs grouped by job id and step and
// summed with each device counted once per node (report/job_files.hpp); runs without a job id
// summed as `epochwatt parse` sums them. docs/parse.md ("By job") describes the outputs.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace epochwatt::cli {

// The aggregate of the runs in `dirs` by job: the sentence and one line per job, one row per job
// and per run without a job id (`table`), or JSON (`json`, schema epochwatt-parse-jobs/1).
// Streams as parse_dirs does: each run is read and let go; a job's rank keeps its per-device
// energies (a few hundred bytes) until the end, a run without a job id is summed (and written,
// JSON) at once. Warnings go to `err`, one line each ("epochwatt: warning: ..."): the reader's as
// they arise, then each job's (missing ranks, a device measured twice). Exit status: 0 when at
// least one run was read, else 1.
int parse_dirs_by_job(const std::vector<std::string>& dirs, bool table, bool json, std::ostream& out,
                      std::ostream& err);

}  // namespace epochwatt::cli
