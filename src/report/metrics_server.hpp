// The metrics endpoint: GET /metrics served by cpp-httplib on threads of its own, never the
// caller's or the sampler's (Options::metrics_listen; docs/cluster.md, "Live metrics: /metrics").
// Its own CMake target (epochwatt::metrics_server), the one library of epochwatt that links an
// HTTP server; the reporters and the core link none.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "core/listen_address.hpp"
#include "report/metrics_exposition.hpp"

namespace epochwatt::detail {

// An HTTP server answering GET /metrics with body() (text exposition format 0.0.4) and 404
// elsewhere. One accepting thread and kWorkers request threads; no keep-alive (a scrape every few
// seconds costs one TCP connect), a second of timeouts, so that stop() returns within about a
// second even while a client holds a connection open.
class MetricsServer {
 public:
  using Body = std::function<std::string()>;
  static constexpr int kWorkers = 2;
  // Binds the address (port 0: any free one) and starts serving. Throws std::runtime_error with
  // the reason ("address already in use") when it cannot bind. The port is not shared
  // (SO_REUSEADDR only, not cpp-httplib's default SO_REUSEPORT): a second process on a port in
  // use fails instead of splitting the scrapes.
  MetricsServer(const ListenAddress& address, Body body);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  int port() const { return port_; }
  // Stops accepting, ends the threads. Idempotent; thread-safe with itself.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = 0;
};

// The live metrics (LiveMetricsReporter) served at `listen` ("ADDR:PORT", Options::metrics_listen)
// from the tracker's start (run_started) until its stop() (flush, which the tracker sends once,
// from stop(), after the final values). A port that cannot be bound gives one warning and the run
// goes on without the endpoint. Thread-safety: as LiveMetricsReporter; port() any thread.
class MetricsEndpointReporter final : public LiveMetricsReporter {
 public:
  // Throws OptionsError for an address that does not parse (validate() has checked it already).
  explicit MetricsEndpointReporter(const std::string& listen);
  ~MetricsEndpointReporter() override;
  void run_started(const Run& run) override;
  void flush() override;
  // The bound port while serving (the one chosen for port 0); nullopt before, after, or when
  // the bind failed.
  std::optional<int> port() const;

 private:
  ListenAddress address_;
  mutable std::mutex server_mu_;
  std::unique_ptr<MetricsServer> server_;
};

}  // namespace epochwatt::detail
