#include "e2e/chromium.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace e2e {

std::string find_chromium() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
      std::string p = dir + "/" + name;
      if (::access(p.c_str(), X_OK) == 0) return p;
    }
  return "";
}

Outcome chromium(const std::string& exe, const TempDir& tmp, const std::string& page, const std::vector<std::string>& mode) {
  std::string home = tmp / "chromium-home";
  std::filesystem::create_directories(home);
  std::vector<std::string> argv = {"timeout", "-k", "5", "90", "env", "HOME=" + home, exe,
                                   "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                   "--no-first-run", "--disable-background-networking",
                                   "--disable-component-update", "--disable-sync",
                                   "--user-data-dir=" + (tmp / "chromium-profile"), "--enable-logging=stderr",
                                   "--v=0"};
  argv.insert(argv.end(), mode.begin(), mode.end());
  argv.push_back("file://" + page);
  std::string io = tmp / "chromium-io";
  std::filesystem::create_directories(io);
  return run(argv, io, std::chrono::seconds(100));
}

bool has_page_messages(const std::string& chromium_stderr) {
  return chromium_stderr.find(":CONSOLE") != std::string::npos || chromium_stderr.find("Uncaught") != std::string::npos;
}

}  // namespace e2e
