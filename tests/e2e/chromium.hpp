// Headless Chromium for the end-to-end tests of the HTML report: finding it, running it on a page
// bounded by timeout(1) (which kills its whole process group) with a temporary HOME and profile,
// and reading the page's console messages from its log. The tests that use it skip only when no
// Chromium is installed (Debian: apt-get install chromium; scripts/setup.sh installs it).
#pragma once

#include <string>
#include <vector>

#include "e2e/cli_harness.hpp"

namespace e2e {

// The first of chromium, chromium-browser, google-chrome on PATH; "" when none.
std::string find_chromium();

// Headless Chromium on the file `page`, with `mode` one of --screenshot=..., --dump-dom,
// --print-to-pdf=... (and any other flags); its profile, HOME and output files go under `tmp`.
Outcome chromium(const std::string& exe, const TempDir& tmp, const std::string& page, const std::vector<std::string>& mode);

// Whether Chromium's log shows a console message or an uncaught error of the page (found by
// planting both in a page: `[...:INFO:CONSOLE:1] "Uncaught ReferenceError: ...", source: file://...`).
bool has_page_messages(const std::string& chromium_stderr);

}  // namespace e2e
