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
  // They go only to the origin (scheme, host and port) of `url`: a redirect elsewhere is followed
  // without them, or not at all when `credentials` is set.
  std::vector<std::pair<std::string, std::string>> headers;
  // A header holds a secret (an API key): a redirect to another origin is refused (the answer is
  // an error naming the other host), so that the secret never reaches a host it was not meant for.
  bool credentials = false;
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
  bool refused = false;     // the client's own rules refused it (scheme, redirect): never retried
};

// Thread-safety: get() may be called from several threads at once.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual HttpResponse get(const HttpRequest& request) = 0;
};

// The libcurl client (HTTPS with the system's CA store). curl_global_init runs once.
// Only http:// and https:// URLs are fetched: any other scheme (file, ftp, dict, gopher, ...), in
// `url` or in a redirect, is an error of one line, not retried. Redirects (301, 302, 303, 307,
// 308) are followed by the client itself, at most kMaxRedirects of them, with the rules of
// HttpRequest::headers and HttpRequest::credentials.
std::shared_ptr<HttpClient> curl_http_client();
inline constexpr int kMaxRedirects = 3;

// The scheme of a URL in lower case ("https"), or empty when the text has no "scheme://".
std::string url_scheme(const std::string& url);

// Why a URL may not be fetched ("only http:// and https:// URLs are fetched, not ftp://"), or
// empty when its scheme is http or https. Never repeats more of the URL than its scheme.
std::string refused_scheme(const std::string& url);

// Percent-encode a path segment or query value (RFC 3986 unreserved characters kept).
std::string url_encode(const std::string& text);

}  // namespace epochwatt::detail
