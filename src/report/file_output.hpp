// The part every machine-readable output shares: a file that may fail to be written warns once
// (on the run's err channel and in its warnings), and the run goes on without it.
#pragma once

#include <exception>
#include <string>

#include "epochwatt/reporter.hpp"

namespace epochwatt::detail {

class FileOutputReporter : public Reporter {
 protected:
  FileOutputReporter(std::string kind, std::string path) : kind_(std::move(kind)), path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  // Runs `write`; an exception or a returned one-line error is warned about once.
  template <class F>
  void guarded(F&& write) noexcept {
    try {
      std::string err = write();
      if (!err.empty()) fail(err);
    } catch (const std::exception& e) {
      fail(e.what());
    } catch (...) {
      fail("unknown error");
    }
  }
  void fail(const std::string& what) noexcept {
    if (warned_) return;
    warned_ = true;
    try {
      warn(kind_ + " output not written: " + what + ". The run goes on without it.");
    } catch (...) {
      // The warning itself failed (err log unwritable): nothing more can be said.
    }
  }

 private:
  std::string kind_, path_;
  bool warned_ = false;  // one warning per output, however often it fails
};

}  // namespace epochwatt::detail
