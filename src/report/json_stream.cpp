#include "report/json_stream.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

namespace epochwatt::detail {
namespace {

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

// The most bytes number_to writes: nlohmann's to_chars needs at most 25 (sign, 17 digits, point,
// exponent); an int64 with `.0` 22.
constexpr std::size_t kNumberBytes = 32;

// `v` as nlohmann's dump writes a double, at `out` (kNumberBytes of room): the end of the text.
char* number_to(char* out, double v) {
  if (!std::isfinite(v)) {
    std::memcpy(out, "null", 4);
    return out + 4;
  }
  // A whole number below 1e15 in magnitude, zero aside (-0.0 keeps its sign): Grisu2 gives its
  // integer digits (the value itself is the shortest decimal in its rounding interval, whose
  // half-width is below 0.07 here) and nlohmann's fixed layout adds `.0` (decimal exponents up to
  // 15 are written in fixed notation). The unit test checks this against nlohmann on many values.
  if (v != 0 && std::fabs(v) < 1e15 && v == static_cast<double>(static_cast<std::int64_t>(v))) {
    auto [end, ec] = std::to_chars(out, out + kNumberBytes, static_cast<std::int64_t>(v));
    std::memcpy(end, ".0", 2);
    return end + 2;
  }
  // nlohmann's own formatter (Grisu2 and its layout), the one its dump() calls for a double: the
  // bytes are those of the tree writer's, digit for digit. It lives in nlohmann's detail
  // namespace; a version of the header without it fails to compile here, it cannot drift.
  return nlohmann::detail::to_chars(out, out + kNumberBytes, v);
}

void append_number(std::string& out, double v) {
  char buf[kNumberBytes];
  char* end = number_to(buf, v);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

// The room escape_to needs for `n` bytes of text: `\u00XX` (6) for a control byte, the quotes,
// and 8 bytes that a short string's word stores may write past its end.
constexpr std::size_t escaped_bytes(std::size_t n) { return 6 * n + 10; }

constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;

// Whether none of the 8 bytes of `w` needs a look: below 0x20, `"`, `\`, or 0x80 and above.
inline bool plain_word(std::uint64_t w) {
  auto zero_byte = [](std::uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  return (((w - kOnes * 0x20) & ~w & kHigh)  // a byte below 0x20
          | zero_byte(w ^ (kOnes * '"')) | zero_byte(w ^ (kOnes * '\\')) | (w & kHigh)) == 0;
}

// `s` as a JSON string literal (see the header for the escapes) at `out`, which has
// escaped_bytes(s.size()) of room: the end of the text.
char* escape_to(char* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  // 1 to 16 bytes that need no escape (most keys and names): one or two words looked at and
  // stored whole (the second overlapping the first; a short one padded with 'a').
  if (std::size_t n = s.size(); n - 1 < 16) {
    std::uint64_t a = kOnes * 'a', b = a;
    if (n >= 8) {
      std::memcpy(&a, s.data(), 8);
      std::memcpy(&b, s.data() + n - 8, 8);
    } else {
      std::memcpy(&a, s.data(), n);
    }
    if (plain_word(a) && plain_word(b)) {
      out[0] = '"';
      std::memcpy(out + 1, &a, 8);
      if (n > 8) std::memcpy(out + 1 + n - 8, &b, 8);
      out[n + 1] = '"';
      return out + n + 2;
    }
  }
  *out++ = '"';
  const char* p = s.data();
  const char* const end = p + s.size();
  while (p < end) {
    // Eight bytes at a time while none of them needs a look (below 0x20, `"`, `\`, or 0x80 and
    // above), copied as they are read: keys and values are mostly plain ASCII.
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      if (!plain_word(w)) break;
      std::memcpy(out, &w, 8);
      out += 8;
      p += 8;
    }
    while (p < end) {
      auto c = static_cast<unsigned char>(*p);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      *out++ = *p++;
    }
    if (p >= end) break;
    auto c = static_cast<unsigned char>(*p);
    if (c >= 0x80) {
      std::size_t i = static_cast<std::size_t>(p - s.data());
      Utf8Sequence seq = utf8_sequence(s, i);
      if (seq.ok) {
        std::memcpy(out, p, seq.length);
        out += seq.length;
      } else {
        std::memcpy(out, "\xEF\xBF\xBD", 3);  // U+FFFD for bytes that are not UTF-8
        out += 3;
      }
      p += seq.length;
      continue;
    }
    const char* esc = nullptr;
    switch (c) {
      case '\b': esc = "\\b"; break;
      case '\t': esc = "\\t"; break;
      case '\n': esc = "\\n"; break;
      case '\f': esc = "\\f"; break;
      case '\r': esc = "\\r"; break;
      case '"': esc = "\\\""; break;
      case '\\': esc = "\\\\"; break;
      default:
        std::memcpy(out, "\\u00", 4);
        out[4] = kHex[c >> 4];
        out[5] = kHex[c & 15];
        out += 6;
    }
    if (esc) {
      std::memcpy(out, esc, 2);
      out += 2;
    }
    ++p;
  }
  *out++ = '"';
  return out;
}

}  // namespace

void append_json_number(std::string& out, double v) { append_number(out, v); }

std::string json_number(double v) {
  std::string s;
  append_number(s, v);
  return s;
}

void append_json_string(std::string& out, std::string_view s) {
  std::size_t old = out.size();
  out.resize(old + escaped_bytes(s.size()));
  char* end = escape_to(out.data() + old, s);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

JsonStreamWriter::JsonStreamWriter(std::ostream& out)
    : out_(out), buf_(new char[kBufferBytes]), pos_(buf_.get()), end_(buf_.get() + kBufferBytes) {}

JsonStreamWriter::~JsonStreamWriter() {
  try {
    flush();
  } catch (...) {
    // A stream that throws on write: what was written stays written; nothing to add here.
  }
}

void JsonStreamWriter::put(std::string_view s) {
  while (!s.empty()) {
    std::size_t n = std::min(s.size(), static_cast<std::size_t>(end_ - pos_));
    std::memcpy(pos_, s.data(), n);
    pos_ += n;
    s.remove_prefix(n);
    if (pos_ == end_) spill();
  }
}

void JsonStreamWriter::put_string(std::string_view s) {
  if (escaped_bytes(s.size()) <= kBufferBytes) {
    pos_ = escape_to(room(escaped_bytes(s.size())), s);
    return;
  }
  std::string text;  // a string of more than 10 kB: escaped apart, then copied in
  append_json_string(text, s);
  put(text);
}

void JsonStreamWriter::spill() {
  out_.write(buf_.get(), static_cast<std::streamsize>(pos_ - buf_.get()));
  pos_ = buf_.get();
}

void JsonStreamWriter::flush() {
  spill();
  out_.flush();
}

void JsonStreamWriter::newline_indent(std::size_t depth) {
  // A line end and the indentation in one copy while they fit the constant (depth 31).
  static constexpr std::string_view kLine =
      "\n                                                              ";
  std::size_t n = 1 + depth * kIndent;
  if (n <= kLine.size()) {
    std::memcpy(room(kLine.size()), kLine.data(), kLine.size());  // a fixed size: a few stores
    pos_ += n;
    return;
  }
  *room(1) = '\n';
  ++pos_;
  put(std::string(depth * kIndent, ' '));
}

void JsonStreamWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (stack_.empty()) return;
  Frame& f = stack_.back();
  if (f.object) throw std::logic_error("JsonStreamWriter: a value inside an object needs its key first");
  if (!f.empty) *room(1) = ',', ++pos_;
  f.empty = false;
  newline_indent(stack_.size());
}

void JsonStreamWriter::key(std::string_view name) {
  if (stack_.empty() || !stack_.back().object || after_key_)
    throw std::logic_error("JsonStreamWriter: a key outside an object, or two keys in a row");
  Frame& f = stack_.back();
  if (!f.empty) *room(1) = ',', ++pos_;
  f.empty = false;
  newline_indent(stack_.size());
  if (escaped_bytes(name.size()) + 2 <= kBufferBytes) {
    char* p = escape_to(room(escaped_bytes(name.size()) + 2), name);
    std::memcpy(p, ": ", 2);
    pos_ = p + 2;
  } else {
    put_string(name);
    put(": ");
  }
  after_key_ = true;
}

void JsonStreamWriter::begin_object() {
  before_value();
  *room(1) = '{';
  ++pos_;
  stack_.push_back({true, true});
}

void JsonStreamWriter::begin_array() {
  before_value();
  *room(1) = '[';
  ++pos_;
  stack_.push_back({false, true});
}

void JsonStreamWriter::end_object() {
  if (stack_.empty() || !stack_.back().object || after_key_)
    throw std::logic_error("JsonStreamWriter: end_object without its begin_object, or after a key");
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline_indent(stack_.size());
  *room(1) = '}';
  ++pos_;
}

void JsonStreamWriter::end_array() {
  if (stack_.empty() || stack_.back().object) throw std::logic_error("JsonStreamWriter: end_array without its begin_array");
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline_indent(stack_.size());
  *room(1) = ']';
  ++pos_;
}

void JsonStreamWriter::value(std::string_view s) {
  before_value();
  put_string(s);
}

void JsonStreamWriter::value(double v) {
  before_value();
  pos_ = number_to(room(kNumberBytes), v);
}

void JsonStreamWriter::value(std::int64_t v) {
  before_value();
  char* p = room(24);
  pos_ = std::to_chars(p, p + 24, v).ptr;
}

void JsonStreamWriter::value(std::uint64_t v) {
  before_value();
  char* p = room(24);
  pos_ = std::to_chars(p, p + 24, v).ptr;
}

void JsonStreamWriter::value(bool v) {
  before_value();
  put(v ? std::string_view("true") : std::string_view("false"));
}

void JsonStreamWriter::null() {
  before_value();
  put("null");
}

}  // namespace epochwatt::detail
