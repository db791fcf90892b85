// The HTTP client of the live intensity providers: libcurl, loaded with dlopen when the first
// request is made. A run that never asks a live provider (offline, a fixed intensity, the
// embedded tables) never maps libcurl and the ~30 libraries it pulls in (TLS, GSSAPI, LDAP ...):
// 5.5 MiB of resident memory in a Python interpreter (docs/performance.md). The header gives the
// types and constants; the functions come from libcurl.so.4 (Debian's libcurl4), the ABI that
// header describes.
#include <curl/curl.h>
#include <dlfcn.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <type_traits>

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

// libcurl's functions, resolved once per process.
struct Curl {
  decltype(&curl_global_init) global_init = nullptr;
  decltype(&curl_easy_init) easy_init = nullptr;
  decltype(&curl_easy_setopt) easy_setopt = nullptr;
  decltype(&curl_easy_perform) easy_perform = nullptr;
  decltype(&curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&curl_easy_strerror) easy_strerror = nullptr;
  decltype(&curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&curl_slist_append) slist_append = nullptr;
  decltype(&curl_slist_free_all) slist_free_all = nullptr;
  std::string error;  // why it is not available; empty when it is
};

const Curl& curl_library() {
  static const Curl lib = [] {
    Curl c;
    // EPOCHWATT_CURL_LIBRARY: another libcurl (a path or a soname), as EPOCHWATT_NVML_LIBRARY for NVML.
    const char* env = std::getenv("EPOCHWATT_CURL_LIBRARY");
    std::string name = env && *env ? env : "libcurl.so.4";
    void* h = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* why = ::dlerror();
      c.error = "libcurl is not available (" + (why ? std::string(why) : name + " not found") +
                "); install libcurl4 for the live intensity providers";
      return c;
    }
    bool ok = true;
    auto resolve = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(h, name));
      if (!fn) ok = false;
    };
    resolve(c.global_init, "curl_global_init");
    resolve(c.easy_init, "curl_easy_init");
    resolve(c.easy_setopt, "curl_easy_setopt");
    resolve(c.easy_perform, "curl_easy_perform");
    resolve(c.easy_getinfo, "curl_easy_getinfo");
    resolve(c.easy_strerror, "curl_easy_strerror");
    resolve(c.easy_cleanup, "curl_easy_cleanup");
    resolve(c.slist_append, "curl_slist_append");
    resolve(c.slist_free_all, "curl_slist_free_all");
    if (!ok) {
      c.error = "libcurl.so.4 lacks a function epochwatt needs; the live intensity providers are off";
      return c;
    }
    c.global_init(CURL_GLOBAL_DEFAULT);  // once, here: this initialiser runs once per process
    return c;
  }();
  return lib;
}

bool cancelled(const HttpRequest& req) { return req.cancel && req.cancel->load(std::memory_order_relaxed); }

int check_cancel(void* req, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return cancelled(*static_cast<const HttpRequest*>(req)) ? 1 : 0;
}

class CurlClient final : public HttpClient {
 public:
  HttpResponse get(const HttpRequest& req) override {
    HttpResponse res;
    if (!curl_library().error.empty()) {  // one attempt: retrying cannot bring the library
      res.error = curl_library().error;
      res.attempts = 1;
      return res;
    }
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
    const Curl& c = curl_library();
    HttpResponse res;
    CURL* curl = c.easy_init();
    if (!curl) {
      res.error = "libcurl could not start a request";
      return res;
    }
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : req.headers) headers = c.slist_append(headers, (name + ": " + value).c_str());
    HeaderCapture cap;
    c.easy_setopt(curl, CURLOPT_URL, req.url.c_str());
    c.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    c.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // background thread: no SIGALRM for DNS timeouts
    c.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout_s * 1000));
    c.easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(req.total_timeout_s * 1000));
    c.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    c.easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
    c.easy_setopt(curl, CURLOPT_USERAGENT, "epochwatt");
    c.easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
    c.easy_setopt(curl, CURLOPT_WRITEDATA, &res.body);
    c.easy_setopt(curl, CURLOPT_HEADERFUNCTION, read_header);
    c.easy_setopt(curl, CURLOPT_HEADERDATA, &cap);
    c.easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, check_cancel);
    c.easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<HttpRequest*>(&req));
    c.easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    CURLcode rc = c.easy_perform(curl);
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
      res.error = "abandoned: the run stopped";
    } else if (rc != CURLE_OK) {
      // curl's message names the failure (timeout, DNS, TLS, refused), never a header value.
      res.error = c.easy_strerror(rc);
    } else {
      c.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res.status);
    }
    res.retry_after_s = cap.retry_after_s;
    c.slist_free_all(headers);
    c.easy_cleanup(curl);
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
