#include <curl/curl.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

#include "intensity/http.hpp"

namespace epochwatt::detail {
namespace {

std::size_t append_body(char* data, std::size_t size, std::size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() > (8u << 20)) return 0;  // no intensity answer is 8 MB: stop reading
  body->append(data, size * n);
  return size * n;
}

struct HeaderCapture {
  std::optional<double> retry_after_s;
};

std::size_t read_header(char* data, std::size_t size, std::size_t n, void* out) {
  std::string line(data, size * n);
  auto* cap = static_cast<HeaderCapture*>(out);
  static const std::string name = "retry-after:";
  if (line.size() > name.size()) {
    std::string head = line.substr(0, name.size());
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (head == name) {
      try {
        cap->retry_after_s = std::stod(line.substr(name.size()));
      } catch (...) {
        // an HTTP date instead of seconds: use the normal backoff
      }
    }
  }
  return size * n;
}

bool cancelled(const HttpRequest& req) { return req.cancel && req.cancel->load(std::memory_order_relaxed); }

int check_cancel(void* req, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return cancelled(*static_cast<const HttpRequest*>(req)) ? 1 : 0;
}

class CurlClient final : public HttpClient {
 public:
  CurlClient() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  HttpResponse get(const HttpRequest& req) override {
    HttpResponse res;
    double wait = req.backoff_s;
    for (int attempt = 1; attempt <= std::max(1, req.max_attempts); ++attempt) {
      res = once(req);
      res.attempts = attempt;
      bool retryable = !res.error.empty() || res.status == 429 || res.status >= 500;
      if (!retryable || attempt == req.max_attempts || cancelled(req)) break;
      double pause = wait;
      if (res.status == 429 && res.retry_after_s) pause = std::min(*res.retry_after_s, req.max_retry_after_s);
      auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(std::max(0.0, pause));
      while (std::chrono::steady_clock::now() < until && !cancelled(req))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (cancelled(req)) break;
      wait *= 2;
    }
    return res;
  }

 private:
  HttpResponse once(const HttpRequest& req) {
    HttpResponse res;
    CURL* curl = curl_easy_init();
    if (!curl) {
      res.error = "libcurl could not start a request";
      return res;
    }
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : req.headers) headers = curl_slist_append(headers, (name + ": " + value).c_str());
    HeaderCapture cap;
    curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // background thread: no SIGALRM for DNS timeouts
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout_s * 1000));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(req.total_timeout_s * 1000));
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "epochwatt");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &res.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, read_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &cap);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, check_cancel);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<HttpRequest*>(&req));
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
      res.error = "abandoned: the run stopped";
    } else if (rc != CURLE_OK) {
      // curl's message names the failure (timeout, DNS, TLS, refused), never a header value.
      res.error = curl_easy_strerror(rc);
    } else {
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res.status);
    }
    res.retry_after_s = cap.retry_after_s;
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return res;
  }
};

}  // namespace

std::shared_ptr<HttpClient> curl_http_client() { return std::make_shared<CurlClient>(); }

std::string url_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace epochwatt::detail
