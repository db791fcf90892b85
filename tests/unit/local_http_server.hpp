// A cpp-httplib server on 127.0.0.1 and a free port, running on its own thread for a test's
// lifetime; the providers' tests answer with bodies shaped like each API's documented ones.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace testing_support {

class LocalServer {
 public:
  LocalServer() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LocalServer() {
    server_.stop();
    thread_.join();
  }
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;
  httplib::Server& server() { return server_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// An answer a provider must refuse: its HTTP status and body, and a part of the reason expected.
struct BadAnswer {
  const char* name;
  int status;
  std::string body;
  const char* expected;
};

// For each answer: a fresh server that gives it to GET `path`; `ask(server, &why)` must return
// false and leave in `why` one line that contains the expected text. Returns the reasons, in
// order, for checks of a caller's own.
template <class Ask>
std::vector<std::string> expect_each_refused(const std::string& path, const std::vector<BadAnswer>& answers, Ask ask) {
  std::vector<std::string> reasons;
  for (const auto& a : answers) {
    LocalServer s;
    s.server().Get(path, [&](const httplib::Request&, httplib::Response& res) {
      res.status = a.status;
      res.set_content(a.body, "application/json");
    });
    std::string why;
    EXPECT_FALSE(ask(s, &why)) << a.name;
    EXPECT_NE(why.find(a.expected), std::string::npos) << a.name << ": " << why;
    EXPECT_EQ(why.find('\n'), std::string::npos) << a.name << ": " << why;
    reasons.push_back(why);
  }
  return reasons;
}

}  // namespace testing_support
