// The libcurl client against real local servers: redirects never carry the caller's headers (the
// API key) to another origin, and only http:// and https:// are fetched (issue 12, item 8).
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "intensity/http.hpp"
#include "local_http_server.hpp"

using epochwatt::detail::curl_http_client;
using epochwatt::detail::HttpRequest;
using epochwatt::detail::HttpResponse;
using epochwatt::detail::kMaxRedirects;
using epochwatt::detail::refused_scheme;
using epochwatt::detail::url_scheme;
using testing_support::LocalServer;

namespace {

const std::string kKey = "key-0123456789-secret";

// What one server received: the path and auth-token of every request.
struct Seen {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> requests;
  void add(const httplib::Request& r) {
    std::lock_guard lk(mu);
    requests.push_back({r.path, r.get_header_value("auth-token")});
  }
  std::size_t with_key() {
    std::lock_guard lk(mu);
    std::size_t n = 0;
    for (const auto& [path, key] : requests) n += !key.empty();
    return n;
  }
  std::size_t count() {
    std::lock_guard lk(mu);
    return requests.size();
  }
};

// A server that answers every path with a JSON body and records what it got.
void answer_and_record(LocalServer& s, Seen& seen, const std::string& body) {
  s.server().Get(".*", [&seen, body](const httplib::Request& req, httplib::Response& res) {
    seen.add(req);
    res.set_content(body, "application/json");
  });
}

// A server that redirects every path to `to` + path and records what it got.
void redirect_and_record(LocalServer& s, Seen& seen, const std::string& to, int status = 302) {
  s.server().Get(".*", [&seen, to, status](const httplib::Request& req, httplib::Response& res) {
    seen.add(req);
    res.status = status;
    res.set_header("Location", to + req.path);
  });
}

HttpRequest keyed(const std::string& url) {
  HttpRequest r;
  r.url = url;
  r.headers = {{"Accept", "application/json"}, {"auth-token", kKey}};
  r.credentials = true;
  r.max_attempts = 3;
  r.backoff_s = 0.01;
  return r;
}

void expect_one_line_without_key(const HttpResponse& res) {
  EXPECT_FALSE(res.error.empty());
  EXPECT_EQ(res.error.find('\n'), std::string::npos) << res.error;
  EXPECT_EQ(res.error.find(kKey), std::string::npos) << res.error;
}

std::string port_of(const std::string& url) { return url.substr(url.rfind(':') + 1); }

}  // namespace

TEST(HttpClient, KeyedRequestIsNotRedirectedToAnotherPort) {
  LocalServer other;
  Seen at_other;
  answer_and_record(other, at_other, "{\"stolen\":true}");
  for (int status : {301, 302, 303, 307, 308}) {
    LocalServer redirecting;
    Seen seen;
    redirect_and_record(redirecting, seen, other.url(), status);
    HttpResponse res = curl_http_client()->get(keyed(redirecting.url() + "/v3/carbon-intensity/latest?zone=DE"));
    expect_one_line_without_key(res);
    EXPECT_NE(res.error.find("another host"), std::string::npos) << res.error;
    EXPECT_NE(res.error.find("127.0.0.1:" + port_of(other.url())), std::string::npos) << res.error;
    EXPECT_TRUE(res.refused);
    EXPECT_EQ(res.attempts, 1) << "a refusal is not retried";
    EXPECT_EQ(seen.with_key(), 1u) << "the configured host got the key once, status " << status;
  }
  EXPECT_EQ(at_other.count(), 0u) << "the other host was never asked";
}

TEST(HttpClient, KeyedRequestIsNotRedirectedToAnotherHostName) {
  // localhost and 127.0.0.1 reach the same server, but they are different hosts by name: the key
  // was given for 127.0.0.1 only.
  LocalServer s;
  Seen seen;
  s.server().Get("/start", [&](const httplib::Request& req, httplib::Response& res) {
    seen.add(req);
    res.status = 302;
    res.set_header("Location", "http://localhost:" + port_of(s.url()) + "/elsewhere");
  });
  s.server().Get("/elsewhere", [&](const httplib::Request& req, httplib::Response& res) {
    seen.add(req);
    res.set_content("{}", "application/json");
  });
  HttpResponse res = curl_http_client()->get(keyed(s.url() + "/start"));
  expect_one_line_without_key(res);
  EXPECT_NE(res.error.find("localhost"), std::string::npos) << res.error;
  std::lock_guard lk(seen.mu);
  ASSERT_EQ(seen.requests.size(), 1u);
  EXPECT_EQ(seen.requests[0].first, "/start");
}

TEST(HttpClient, UnkeyedRequestFollowsAnotherHostWithoutTheCallersHeaders) {
  LocalServer redirecting, other;
  Seen at_redirecting;
  std::string accept_at_other = "unset";
  redirect_and_record(redirecting, at_redirecting, other.url());
  other.server().Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    accept_at_other = req.get_header_value("Accept");
    res.set_content("{\"ok\":1}", "application/json");
  });
  HttpRequest r = keyed(redirecting.url() + "/json");
  r.credentials = false;  // e.g. a keyless provider behind a moved URL
  r.headers = {{"Accept", "application/x-test"}};
  HttpResponse res = curl_http_client()->get(r);
  EXPECT_TRUE(res.error.empty()) << res.error;
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "{\"ok\":1}");
  EXPECT_NE(accept_at_other, "application/x-test") << "headers go to the request's own origin only";
}

TEST(HttpClient, SameOriginRedirectKeepsTheKey) {
  LocalServer s;
  Seen seen;
  s.server().Get("/old", [&](const httplib::Request& req, httplib::Response& res) {
    seen.add(req);
    res.status = 301;
    res.set_header("Location", "/new");  // relative: the same origin
  });
  answer_and_record(s, seen, "{\"carbonIntensity\":100}");
  HttpResponse res = curl_http_client()->get(keyed(s.url() + "/old"));
  EXPECT_TRUE(res.error.empty()) << res.error;
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "{\"carbonIntensity\":100}");
  EXPECT_EQ(seen.with_key(), 2u);
}

TEST(HttpClient, RedirectLoopEndsAfterTheLimit) {
  LocalServer s;
  Seen seen;
  s.server().Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    seen.add(req);
    res.status = 302;
    res.set_header("Location", req.path + "x");
  });
  HttpResponse res = curl_http_client()->get(keyed(s.url() + "/a"));
  expect_one_line_without_key(res);
  EXPECT_NE(res.error.find("redirects"), std::string::npos) << res.error;
  EXPECT_EQ(seen.count(), static_cast<std::size_t>(kMaxRedirects + 1));
}

TEST(HttpClient, OnlyHttpAndHttpsAreFetched) {
  LocalServer s;
  Seen seen;
  answer_and_record(s, seen, "{}");
  std::string port = port_of(s.url());
  // Each would reach something real with libcurl's defaults: a local file, or the test server's
  // port spoken to in another protocol.
  const std::vector<std::string> urls = {"file:///etc/hostname", "FILE:///etc/passwd", "ftp://127.0.0.1:" + port + "/x",
                                         "dict://127.0.0.1:" + port + "/d:x", "gopher://127.0.0.1:" + port + "/_GET",
                                         "127.0.0.1:" + port + "/noscheme", "ldap://127.0.0.1:" + port};
  for (const std::string& url : urls) {
    HttpResponse res = curl_http_client()->get(keyed(url));
    expect_one_line_without_key(res);
    EXPECT_NE(res.error.find("only http:// and https://"), std::string::npos) << url << ": " << res.error;
    EXPECT_TRUE(res.refused) << url;
    EXPECT_EQ(res.attempts, 1) << url;
    EXPECT_TRUE(res.body.empty()) << url;
  }
  EXPECT_EQ(seen.count(), 0u);
}

TEST(HttpClient, RedirectToAnotherSchemeIsRefused) {
  for (const std::string to : {"file:///etc/hostname", "ftp://127.0.0.1/", "gopher://127.0.0.1/"}) {
    LocalServer s;
    s.server().Get("/", [&](const httplib::Request&, httplib::Response& res) {
      res.status = 302;
      res.set_header("Location", to);
    });
    HttpRequest r = keyed(s.url() + "/");
    r.credentials = false;
    HttpResponse res = curl_http_client()->get(r);
    expect_one_line_without_key(res);
    EXPECT_NE(res.error.find("only http:// and https://"), std::string::npos) << to << ": " << res.error;
    EXPECT_TRUE(res.body.empty()) << to;
  }
}

TEST(HttpClient, SchemeHelpers) {
  EXPECT_EQ(url_scheme("HTTPS://api.example/x"), "https");
  EXPECT_EQ(url_scheme("127.0.0.1:80/x"), "");
  EXPECT_EQ(url_scheme("://x"), "");
  EXPECT_EQ(refused_scheme("http://127.0.0.1:1"), "");
  EXPECT_EQ(refused_scheme("Https://api.electricitymaps.com"), "");
  EXPECT_EQ(refused_scheme("gopher://h/"), "only http:// and https:// URLs are fetched, not gopher://");
}
