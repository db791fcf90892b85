#include "report/json_stream.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

namespace epochwatt::detail {
namespace {

constexpr std::size_t kSpillBytes = 64 * 1024;
constexpr std::size_t kIndent = 2;  // nlohmann's dump(2)

// The UTF-8 sequence at s[i] (first byte >= 0x80): its length and whether it is well formed. An
// ill-formed one has the length of its longest well-formed start (at least 1), which one U+FFFD
// replaces; the next byte is read afresh (Unicode's "maximal subpart" rule, which nlohmann's
// `replace` handler follows).
struct Utf8Sequence {
  std::size_t length;
  bool ok;
};
Utf8Sequence utf8_sequence(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return {1, false};
  }
  for (std::size_t k = 1; k < len; ++k) {
    if (i + k >= s.size()) return {k, false};  // cut at the end of the string
    auto b = static_cast<unsigned char>(s[i + k]);
    if (b < (k == 1 ? lo : 0x80u) || b > (k == 1 ? hi : 0xBFu)) return {k, false};
  }
  return {len, true};
}

void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out.append("null");
    return;
  }
  // nlohmann's own formatter (Grisu2 and its layout), the one its dump() calls for a double: the
  // bytes are those of the tree writer's, digit for digit. It lives in nlohmann's detail
  // namespace; a version of the header without it fails to compile here, it cannot drift.
  char buf[64];
  char* end = nlohmann::detail::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

}  // namespace

void append_json_number(std::string& out, double v) { append_number(out, v); }

std::string json_number(double v) {
  std::string s;
  append_number(s, v);
  return s;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    // The run of bytes that need no escape, copied at once.
    std::size_t run = i;
    // Eight bytes at a time while none of them needs a look (below 0x20, `"`, `\\`, or 0x80 and
    // above): keys and values are mostly plain ASCII.
    constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
    while (run + 8 <= s.size()) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + run, 8);
      auto zero_byte = [&](std::uint64_t x) { return (x - kOnes) & ~x & kHigh; };
      std::uint64_t special = ((w - kOnes * 0x20) & ~w & kHigh)  // a byte below 0x20
                              | zero_byte(w ^ (kOnes * '"')) | zero_byte(w ^ (kOnes * '\\')) | (w & kHigh);
      if (special) break;
      run += 8;
    }
    while (run < s.size()) {
      auto c = static_cast<unsigned char>(s[run]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++run;
    }
    out.append(s.data() + i, run - i);
    i = run;
    if (i >= s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      Utf8Sequence seq = utf8_sequence(s, i);
      if (seq.ok) out.append(s.data() + i, seq.length);
      else out.append("\xEF\xBF\xBD");  // U+FFFD for bytes that are not UTF-8
      i += seq.length;
      continue;
    }
    switch (c) {
      case '\b': out.append("\\b"); break;
      case '\t': out.append("\\t"); break;
      case '\n': out.append("\\n"); break;
      case '\f': out.append("\\f"); break;
      case '\r': out.append("\\r"); break;
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      default:
        out.append("\\u00");
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    ++i;
  }
  out += '"';
}

JsonStreamWriter::JsonStreamWriter(std::ostream& out) : out_(out) { buf_.reserve(kSpillBytes + 4096); }

JsonStreamWriter::~JsonStreamWriter() {
  try {
    flush();
  } catch (...) {
    // A stream that throws on write: what was written stays written; nothing to add here.
  }
}

void JsonStreamWriter::put(std::string_view s) {
  buf_.append(s);
  if (buf_.size() >= kSpillBytes) spill();
}

void JsonStreamWriter::spill() {
  out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
  buf_.clear();
}

void JsonStreamWriter::flush() {
  spill();
  out_.flush();
}

void JsonStreamWriter::newline_indent(std::size_t depth) {
  // A line end and the indentation in one append while they fit the constant (depth 31).
  static constexpr std::string_view kLine =
      "\n                                                              ";
  std::size_t n = 1 + depth * kIndent;
  if (n <= kLine.size()) {
    buf_.append(kLine.data(), n);
    return;
  }
  buf_ += '\n';
  buf_.append(depth * kIndent, ' ');
}

void JsonStreamWriter::before_value() {
  if (buf_.size() >= kSpillBytes) spill();
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (stack_.empty()) return;
  Frame& f = stack_.back();
  if (f.object) throw std::logic_error("JsonStreamWriter: a value inside an object needs its key first");
  if (!f.empty) buf_ += ',';
  f.empty = false;
  newline_indent(stack_.size());
}

void JsonStreamWriter::key(std::string_view name) {
  if (stack_.empty() || !stack_.back().object || after_key_)
    throw std::logic_error("JsonStreamWriter: a key outside an object, or two keys in a row");
  Frame& f = stack_.back();
  if (!f.empty) buf_ += ',';
  f.empty = false;
  newline_indent(stack_.size());
  append_json_string(buf_, name);
  buf_.append(": ");
  after_key_ = true;
}

void JsonStreamWriter::begin_object() {
  before_value();
  buf_ += '{';
  stack_.push_back({true, true});
}

void JsonStreamWriter::begin_array() {
  before_value();
  buf_ += '[';
  stack_.push_back({false, true});
}

void JsonStreamWriter::end_object() {
  if (stack_.empty() || !stack_.back().object || after_key_)
    throw std::logic_error("JsonStreamWriter: end_object without its begin_object, or after a key");
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline_indent(stack_.size());
  put("}");
}

void JsonStreamWriter::end_array() {
  if (stack_.empty() || stack_.back().object) throw std::logic_error("JsonStreamWriter: end_array without its begin_array");
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline_indent(stack_.size());
  put("]");
}

void JsonStreamWriter::value(std::string_view s) {
  before_value();
  append_json_string(buf_, s);
}

void JsonStreamWriter::value(double v) {
  before_value();
  append_number(buf_, v);
}

void JsonStreamWriter::value(std::int64_t v) {
  before_value();
  char b[24];
  auto [end, ec] = std::to_chars(b, b + sizeof b, v);
  buf_.append(b, static_cast<std::size_t>(end - b));
}

void JsonStreamWriter::value(std::uint64_t v) {
  before_value();
  char b[24];
  auto [end, ec] = std::to_chars(b, b + sizeof b, v);
  buf_.append(b, static_cast<std::size_t>(end - b));
}

void JsonStreamWriter::value(bool v) {
  before_value();
  buf_.append(v ? "true" : "false");
}

void JsonStreamWriter::null() {
  before_value();
  buf_.append("null");
}

}  // namespace epochwatt::detail
