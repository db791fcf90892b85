// Helpers shared by the fuzz targets (docs/testing.md, "Fuzzing"): the readers under test take file
// paths, as the CLI gives them, so each input is written to a scratch file first; and a fake HTTP
// client that answers every request with the input, for the providers' JSON readers.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "intensity/http.hpp"

namespace ewfuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A private folder under $TMPDIR (else /tmp), made once per process and removed at exit.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/epochwatt-fuzz-XXXXXX";
    if (!::mkdtemp(pattern.data())) std::abort();  // no scratch space: nothing can be tested
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // Writes `text` to NAME in the folder (mode 0600, as a user's own file) and returns its path.
  std::string write(const std::string& name, std::string_view text) const {
    std::string p = path_ + "/" + name;
    {
      std::ofstream f(p, std::ios::binary | std::ios::trunc);
      f.write(text.data(), static_cast<std::streamsize>(text.size()));
      if (!f) std::abort();
    }
    ::chmod(p.c_str(), 0600);
    return p;
  }

 private:
  std::string path_;
};

inline const ScratchDir& scratch() {
  static const ScratchDir dir;
  return dir;
}

// Answers every GET with HTTP 200 and the same body: what a provider reads is the fuzzer's input.
class CannedHttp final : public epochwatt::detail::HttpClient {
 public:
  explicit CannedHttp(std::string body) : body_(std::move(body)) {}
  epochwatt::detail::HttpResponse get(const epochwatt::detail::HttpRequest&) override {
    epochwatt::detail::HttpResponse r;
    r.status = 200;
    r.body = body_;
    r.attempts = 1;
    return r;
  }

 private:
  std::string body_;
};

// One attempt, no pause: a canned answer needs no retry.
inline epochwatt::detail::HttpRequest one_attempt() {
  epochwatt::detail::HttpRequest r;
  r.max_attempts = 1;
  r.backoff_s = 0.0;
  return r;
}

}  // namespace ewfuzz
