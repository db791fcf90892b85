#include "report/metrics_server.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <stdexcept>

namespace epochwatt::detail {

struct MetricsServer::Impl {
  httplib::Server http;
};

MetricsServer::MetricsServer(const ListenAddress& address, Body body) : impl_(std::make_unique<Impl>()) {
  httplib::Server& s = impl_->http;
  s.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  s.set_socket_options([](int sock) {
    int yes = 1;
    (void)::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  s.set_keep_alive_max_count(1);
  s.set_keep_alive_timeout(1);
  s.set_read_timeout(1, 0);
  s.set_write_timeout(1, 0);
  s.set_payload_max_length(64 * 1024);  // a scrape has no body
  s.Get("/metrics", [body = std::move(body)](const httplib::Request&, httplib::Response& res) {
    res.set_content(body(), kPrometheusTextContentType);
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content("internal error\n", "text/plain");
  });
  if (address.port == 0) {
    port_ = s.bind_to_any_port(address.host);
    if (port_ <= 0) throw std::runtime_error("cannot bind " + address.host + " to any port");
  } else {
    if (!s.bind_to_port(address.host, address.port))
      throw std::runtime_error("cannot bind " + address.host + ":" + std::to_string(address.port) +
                               " (address in use, or not an address of this host)");
    port_ = address.port;
  }
  thread_ = std::thread([this] { impl_->http.listen_after_bind(); });
  // stop() before the accept loop has begun would be lost (cpp-httplib's stop() acts on a running
  // server only): wait until it runs, a few milliseconds at most.
  for (int i = 0; i < 5000 && !impl_->http.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::stop() {
  if (!thread_.joinable()) return;
  impl_->http.stop();
  thread_.join();
}

MetricsEndpointReporter::MetricsEndpointReporter(const std::string& listen) : address_(parse_listen_address(listen)) {}

MetricsEndpointReporter::~MetricsEndpointReporter() { flush(); }

void MetricsEndpointReporter::run_started(const Run& run) {
  LiveMetricsReporter::run_started(run);
  std::lock_guard lk(server_mu_);
  if (server_) return;
  try {
    server_ = std::make_unique<MetricsServer>(address_, [this] { return exposition(); });
  } catch (const std::exception& e) {
    // The tracker's start, before its sampler runs: warn() may add to the run here.
    warn(std::string("The metrics endpoint is off: ") + e.what() + "; the run goes on without it.");
  }
}

void MetricsEndpointReporter::flush() {
  std::unique_ptr<MetricsServer> server;
  {
    std::lock_guard lk(server_mu_);
    server = std::move(server_);
  }
  if (server) server->stop();
}

std::optional<int> MetricsEndpointReporter::port() const {
  std::lock_guard lk(server_mu_);
  if (!server_) return std::nullopt;
  return server_->port();
}

}  // namespace epochwatt::detail
