// The part every file output shares: a file that may fail to be written warns once (on the run's
// err channel and in its warnings), and the run goes on without it. Writes go through a FileSink
// (report/file_sink.hpp), the real file system unless a test injects another.
#pragma once

#include <exception>
#include <memory>
#include <string>

#include "epochwatt/reporter.hpp"
#include "report/file_sink.hpp"

namespace epochwatt::detail {

class FileOutputReporter : public Reporter {
 protected:
  // what: the output as the warning names it ("CSV output", "JSON summary").
  FileOutputReporter(std::string what, std::string path, std::shared_ptr<FileSink> sink)
      : what_(std::move(what)), path_(std::move(path)), sink_(sink ? std::move(sink) : system_file_sink()) {}
  const std::string& path() const { return path_; }
  FileSink& sink() const { return *sink_; }
  // Runs `write`, which returns a WriteResult: its error is warned about once, its note once.
  template <class F>
  void guarded(F&& write) noexcept {
    try {
      WriteResult r = write();
      if (!r.error.empty()) fail(r.error);
      if (!r.note.empty()) note(r.note);
    } catch (const std::exception& e) {
      fail(e.what());
    } catch (...) {
      fail("unknown error");
    }
  }
  void fail(const std::string& what) noexcept {
    if (warned_) return;
    warned_ = true;
    say(what_ + " not written: " + what + ". The run goes on without it.");
  }
  void note(const std::string& what) noexcept {
    if (noted_) return;
    noted_ = true;
    say(what_ + ": " + what);
  }

 private:
  void say(const std::string& text) noexcept {
    try {
      warn(text);
    } catch (...) {
      // The warning itself failed (err log unwritable): nothing more can be said.
    }
  }
  std::string what_, path_;
  std::shared_ptr<FileSink> sink_;
  bool warned_ = false;  // one warning per output, however often it fails
  bool noted_ = false;   // one note per output (a sibling used, a cut record ended)
};

}  // namespace epochwatt::detail
