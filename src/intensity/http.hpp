// HTTP GET through libcurl, behind a small interface so providers can be tested against a local
// server and never block the caller's thread (they run on the tracker's background thread).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace epochwatt::detail {

struct HttpRequest {
  std::string url;
  // Header lines as name/value; values (API keys) are never written into errors or logs.
  std::vector<std::pair<std::string, std::string>> headers;
  double connect_timeout_s = 2.0;
  double total_timeout_s = 5.0;   // per attempt
  int max_attempts = 3;           // bounded retries on timeouts, connection errors, 5xx and 429
  double backoff_s = 0.25;        // doubled after each failed attempt
  double max_retry_after_s = 5.0; // a 429's Retry-After is honoured up to this
  // Set to true (from any thread) to abandon the request: a transfer in flight stops within about
  // a second (libcurl's progress callback), a backoff pause within 50 ms; the error says so.
  std::shared_ptr<const std::atomic<bool>> cancel;
};

struct HttpResponse {
  long status = 0;          // HTTP status of the last attempt; 0 when no response came
  std::string body;
  std::string error;        // one line when no usable response came (transport error), else empty
  int attempts = 0;
  std::optional<double> retry_after_s;  // a Retry-After header in seconds, when the server sent one
};

// Thread-safety: get() may be called from several threads at once.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual HttpResponse get(const HttpRequest& request) = 0;
};

// The libcurl client (HTTPS with the system's CA store). curl_global_init runs once.
std::shared_ptr<HttpClient> curl_http_client();

// Percent-encode a path segment or query value (RFC 3986 unreserved characters kept).
std::string url_encode(const std::string& text);

}  // namespace epochwatt::detail
