// The one-call default: a tracker with everything wired. Part of the `epochwatt` library (the
// layer above all others); a consumer of epochwatt::core alone builds TrackerParts itself.
//
//   epochwatt::Options o;  o.epochs = 10;
//   auto parts = epochwatt::default_tracker_parts(o);     // discovery, intensity, reporters
//   parts.reporters.push_back(std::make_shared<MyReporter>());
//   epochwatt::Tracker tracker(o, std::move(parts));      // or simply Tracker(o)
#pragma once

#include "epochwatt/options.hpp"
#include "epochwatt/tracker.hpp"

namespace epochwatt {

// Validates the options (OptionsError), opens carbontracker's console and log files (Error when the
// log folder cannot be made or a log file opened; with ignore_errors one warning, and no files), discovers the meters (epochwatt/registry.hpp), makes the intensity
// service (offline tables, cache, live providers in the background) and the reporters: the
// carbontracker console and logs, the JSON summary, and one per Options::outputs entry.
TrackerParts default_tracker_parts(const Options& options);

}  // namespace epochwatt
