// Golden-file comparison shared by the unit and end-to-end tests: `actual` must equal the file
// tests/golden/RELATIVE byte for byte. With EPOCHWATT_UPDATE_GOLDEN=1 the file is rewritten instead
// and the check FAILS all the same, so that an update run can never pass for a test run: review the
// diff against the spec, then run the tests again without the variable (tests/golden/README.md).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace golden {

inline bool updating() {
  const char* v = std::getenv("EPOCHWATT_UPDATE_GOLDEN");
  return v && std::string(v) == "1";
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) out.push_back(line);
  return out;
}

inline void expect_matches(const std::string& relative, const std::string& actual) {
  std::filesystem::path path = std::filesystem::path(EPOCHWATT_GOLDEN_DIR) / relative;
  if (updating()) {
    std::string before;
    const bool existed = std::filesystem::exists(path);
    if (existed) {
      std::ifstream in(path, std::ios::binary);
      std::stringstream old;
      old << in.rdbuf();
      before = old.str();
    }
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << actual;
    out.close();
    ASSERT_FALSE(out.fail()) << "[golden] could not write " << path.string();
    std::cout << "[golden] wrote " << path.string() << "\n";
    ADD_FAILURE() << "[golden] EPOCHWATT_UPDATE_GOLDEN=1: rewrote " << path.string()
                  << (!existed ? " (new file)" : before == actual ? " (content unchanged)" : " (content CHANGED)")
                  << " instead of comparing it. The file must be reviewed (git diff tests/golden, against the"
                     " spec) and the tests run again without EPOCHWATT_UPDATE_GOLDEN; an update run never passes.";
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << path.string() << " is missing; run with EPOCHWATT_UPDATE_GOLDEN=1 to create it";
  std::ifstream f(path, std::ios::binary);
  std::stringstream buf;
  buf << f.rdbuf();
  const std::string expected = buf.str();
  if (expected == actual) return;
  auto e = lines_of(expected), a = lines_of(actual);
  for (std::size_t i = 0; i < std::max(e.size(), a.size()); ++i) {
    std::string el = i < e.size() ? e[i] : "<end of file>";
    std::string al = i < a.size() ? a[i] : "<end of file>";
    if (el != al) {
      ADD_FAILURE() << path.string() << " line " << i + 1 << " differs\n  expected: " << el << "\n  actual:   " << al;
      return;
    }
  }
  ADD_FAILURE() << path.string() << " differs (line ends or final newline)";
}

}  // namespace golden
