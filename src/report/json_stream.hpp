// A JSON writer that writes as it goes, for outputs too large to hold as a tree (`epochwatt parse
// --json` over thousands of runs). The text is laid out exactly as nlohmann::json's dump(2) lays
// out the same value (two-space indent, `"key": value`, `{}` and `[]` when empty), so an output
// moved from a tree to the stream keeps its bytes: tests/unit/json_stream_test.cpp compares the two.
//
// Numbers: integers as written; a double by nlohmann's own formatter (Grisu2 round-trip digits;
// fixed notation with a `.0` for whole values when its exponent is in [-4, 15), else
// `d.ddde+XX`), `null` for NaN and infinities, as nlohmann's dump writes them. Strings: `"`, `\` and control characters escaped as nlohmann does (`\n`, `\u001f`),
// UTF-8 passed through; a byte that is not part of well-formed UTF-8 becomes U+FFFD (nlohmann's
// default would throw). Locale-independent.
//
// Usage: begin_object(); key("a"); value(1.5); end_object(). Calls out of order (a value without
// its key inside an object, an end without a begin) are programming errors: std::logic_error.
//
// Thread-safety: none; one writer per stream. The writer buffers up to 64 KiB, writes it to the
// stream when full, at flush() and when destroyed.
//
// Speed: a double that is a whole number below 1e15 in magnitude (the watts, seconds and joules of
// most logs) is written as its integer digits and `.0`, which is what nlohmann's Grisu2 writes for
// it (tests/unit/json_stream_test.cpp compares the two on many values), without running Grisu2.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace epochwatt::detail {

class JsonStreamWriter {
 public:
  explicit JsonStreamWriter(std::ostream& out);
  JsonStreamWriter(const JsonStreamWriter&) = delete;
  JsonStreamWriter& operator=(const JsonStreamWriter&) = delete;
  ~JsonStreamWriter();

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  // The next member's name, inside an object.
  void key(std::string_view name);

  void value(std::string_view s);
  void value(const char* s) { value(std::string_view(s)); }
  void value(const std::string& s) { value(std::string_view(s)); }
  void value(double v);
  void value(std::int64_t v);
  void value(int v) { value(static_cast<std::int64_t>(v)); }
  void value(std::uint64_t v);
  void value(bool v);
  void null();
  // The value, or null when there is none.
  template <typename T>
  void value(const std::optional<T>& v) {
    if (v) value(*v);
    else null();
  }
  // An array of strings or numbers.
  template <typename T>
  void value(const std::vector<T>& items) {
    begin_array();
    for (const auto& item : items) value(item);
    end_array();
  }

  // Writes the buffered text to the stream and flushes it.
  void flush();

 private:
  struct Frame {
    bool object = false;
    bool empty = true;
  };
  void before_value();  // the separator and indentation before a value, or nothing after a key
  void put(std::string_view s);
  void put_string(std::string_view s);  // `s` as a JSON string literal
  void newline_indent(std::size_t depth);
  // Room for `n` more bytes (n <= kBufferBytes) at pos_: the buffer is spilled if they do not fit.
  char* room(std::size_t n) {
    if (static_cast<std::size_t>(end_ - pos_) < n) spill();
    return pos_;
  }
  void spill();

  // The buffer: text is written at pos_ with plain stores (no std::string append per piece, which
  // was half of the writer's cost on `parse --json`), and handed to the stream when full.
  static constexpr std::size_t kBufferBytes = 64 * 1024;
  std::ostream& out_;
  std::unique_ptr<char[]> buf_;
  char* pos_;
  char* end_;
  std::vector<Frame> stack_;
  bool after_key_ = false;
};

// `v` as nlohmann::json's dump writes a double (see above): "0.1", "1.0", "1e-05", "1.5e+20",
// "-0.0"; "null" for NaN and infinities.
std::string json_number(double v);
// The same, appended to `out` (no string per number: the summary's epoch columns).
void append_json_number(std::string& out, double v);
// Appends `s` as a JSON string literal, quotes included (see above for the escapes).
void append_json_string(std::string& out, std::string_view s);

}  // namespace epochwatt::detail
