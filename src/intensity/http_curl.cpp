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
  decltype(&curl_url) url = nullptr;
  decltype(&curl_url_set) url_set = nullptr;
  decltype(&curl_url_get) url_get = nullptr;
  decltype(&curl_url_cleanup) url_cleanup = nullptr;
  decltype(&curl_free) free = nullptr;
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
    resolve(c.url, "curl_url");  // the URL API (libcurl 7.62 and later)
    resolve(c.url_set, "curl_url_set");
    resolve(c.url_get, "curl_url_get");
    resolve(c.url_cleanup, "curl_url_cleanup");
    resolve(c.free, "curl_free");
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

// Where a request goes, as browsers compare it for credentials: scheme, host (lower case) and
// port (the scheme's default when the URL names none).
struct Origin {
  std::string scheme, host, port;
  bool operator==(const Origin&) const = default;
};

std::string lower(std::string text) {
  for (char& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return text;
}

// Parsed by libcurl's own URL parser, so that what we compare is what it will connect to.
std::optional<Origin> origin_of(const Curl& c, const std::string& url) {
  CURLU* h = c.url();
  if (!h) return std::nullopt;
  std::optional<Origin> out;
  if (c.url_set(h, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    Origin o;
    bool ok = true;
    auto part = [&](CURLUPart which, unsigned flags, std::string& into) {
      char* text = nullptr;
      if (c.url_get(h, which, &text, flags) != CURLUE_OK || !text) {
        ok = false;
        return;
      }
      into = lower(text);
      c.free(text);
    };
    part(CURLUPART_SCHEME, 0, o.scheme);
    part(CURLUPART_HOST, 0, o.host);
    part(CURLUPART_PORT, CURLU_DEFAULT_PORT, o.port);
    if (ok) out = o;
  }
  c.url_cleanup(h);
  return out;
}

std::string host_port(const Origin& o) { return o.host + ":" + o.port; }

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

HttpResponse refusal(std::string why) {
  HttpResponse res;
  res.error = std::move(why);
  res.refused = true;
  return res;
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
      res = follow(req);
      res.attempts = attempt;
      bool retryable = !res.refused && (!res.error.empty() || res.status == 429 || res.status >= 500);
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
  // One attempt: the request and the redirects that answer it. libcurl's own redirect following
  // is off, because it would send our headers (the API key) to whatever host a redirect names:
  // CURLOPT_UNRESTRICTED_AUTH governs only Authorization and cookies, not custom headers.
  HttpResponse follow(const HttpRequest& req) {
    const Curl& c = curl_library();
    if (std::string why = refused_scheme(req.url); !why.empty()) return refusal(why);
    std::optional<Origin> home = origin_of(c, req.url);
    if (!home) return refusal("the URL cannot be read (scheme://host[:port]/path expected)");
    std::string url = req.url;
    for (int hop = 0;; ++hop) {
      std::optional<Origin> here = hop == 0 ? home : origin_of(c, url);
      if (!here) return refusal("redirected to a URL that cannot be read; not followed");
      std::string redirect;
      HttpResponse res = once(req, url, /*with_headers=*/*here == *home, &redirect);
      if (!res.error.empty() || !is_redirect(res.status) || redirect.empty() || cancelled(req)) return res;
      if (hop == kMaxRedirects)
        return refusal("more than " + std::to_string(kMaxRedirects) + " redirects (HTTP " + std::to_string(res.status) +
                       " from " + host_port(*here) + "); not followed");
      if (std::string why = refused_scheme(redirect); !why.empty())
        return refusal("redirected by " + host_port(*here) + " to a refused URL (" + why + "); not followed");
      std::optional<Origin> next = origin_of(c, redirect);
      if (!next) return refusal("redirected by " + host_port(*here) + " to a URL that cannot be read; not followed");
      if (req.credentials && !(*next == *home))
        return refusal("redirected to another host (" + next->scheme + "://" + host_port(*next) +
                       "); not followed, so that the API key goes only to " + home->scheme + "://" + host_port(*home));
      url = redirect;
    }
  }

  // One transfer. `with_headers`: send the request's headers (only to the request's own origin).
  // `redirect` receives the absolute target of a redirect answer.
  HttpResponse once(const HttpRequest& req, const std::string& url, bool with_headers, std::string* redirect) {
    const Curl& c = curl_library();
    HttpResponse res;
    CURL* curl = c.easy_init();
    if (!curl) {
      res.error = "libcurl could not start a request";
      return res;
    }
    curl_slist* headers = nullptr;
    if (with_headers)
      for (const auto& [name, value] : req.headers) headers = c.slist_append(headers, (name + ": " + value).c_str());
    HeaderCapture cap;
    c.easy_setopt(curl, CURLOPT_URL, url.c_str());
    // The scheme was checked above; this is libcurl's own guard for the same rule (7.85 and later;
    // an older libcurl ignores the option and the check above stands alone).
    c.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    c.easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    c.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    c.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // background thread: no SIGALRM for DNS timeouts
    c.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout_s * 1000));
    c.easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(req.total_timeout_s * 1000));
    c.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // follow() decides, hop by hop
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
    } else if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
      res.error = refused_scheme(url).empty() ? c.easy_strerror(rc) : refused_scheme(url);
      res.refused = true;
    } else if (rc != CURLE_OK) {
      // curl's message names the failure (timeout, DNS, TLS, refused), never a header value.
      res.error = c.easy_strerror(rc);
    } else {
      c.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res.status);
      char* location = nullptr;
      if (c.easy_getinfo(curl, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location) *redirect = location;
    }
    res.retry_after_s = cap.retry_after_s;
    c.slist_free_all(headers);
    c.easy_cleanup(curl);
    return res;
  }
};

}  // namespace

std::shared_ptr<HttpClient> curl_http_client() { return std::make_shared<CurlClient>(); }

std::string url_scheme(const std::string& url) {
  auto sep = url.find("://");
  if (sep == std::string::npos || sep == 0) return "";
  for (std::size_t i = 0; i < sep; ++i) {  // RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    unsigned char ch = static_cast<unsigned char>(url[i]);
    if (!(std::isalpha(ch) || (i > 0 && (std::isdigit(ch) || ch == '+' || ch == '-' || ch == '.')))) return "";
  }
  return lower(url.substr(0, sep));
}

std::string refused_scheme(const std::string& url) {
  std::string scheme = url_scheme(url);
  if (scheme == "http" || scheme == "https") return "";
  if (scheme.empty()) return "only http:// and https:// URLs are fetched, and this one names no scheme";
  // A redirect's Location is the server's text: a long "scheme" is not repeated.
  if (scheme.size() > 16) return "only http:// and https:// URLs are fetched, not another scheme";
  return "only http:// and https:// URLs are fetched, not " + scheme + "://";
}

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
