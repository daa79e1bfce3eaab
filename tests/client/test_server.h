// A real chaton::server::Server running in the test process, on 127.0.0.1
// with a port of its own and a fresh data directory, for the client library
// and webhook tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "config/config.h"
#include "server/server.h"
#include "support/temp_dir.h"
#include "support/wait.h"
#include "util/clock.h"

namespace chaton::testing {

// Fast comet timings, as the integration tests use.
inline Config test_config(const std::filesystem::path& data_dir, uint16_t port = 0) {
  Config c = default_config();
  c.site.listen = "127.0.0.1:" + std::to_string(port);
  c.site.data_dir = data_dir.string();
  c.comet.soft_timeout_min = 0.3;
  c.comet.soft_timeout_max = 0.5;
  c.comet.hard_timeout_min = 1;
  c.comet.hard_timeout_max = 1.5;
  c.comet.client_timeout = 1;
  return c;
}

class TestServer {
 public:
  // `config` is finalized here; a failure to start fails the test.
  explicit TestServer(Config config) {
    Status st = finalize(config);
    EXPECT_TRUE(st) << st.message();
    server_ = std::make_unique<server::Server>(std::move(config), SystemClock::instance());
    std::ostringstream out;
    started_ = server_->start(out);
    EXPECT_TRUE(started_) << started_.message();
    log_ = out.str();
    if (started_) thread_ = std::thread([this] { server_->run(); });
  }
  ~TestServer() { stop(); }

  void stop() {
    if (!server_) return;
    server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  bool started() const { return started_.is_ok(); }
  uint16_t port() const { return port_or_zero(); }
  std::string url() const { return server_ ? server_->public_url() : std::string(); }
  std::string room_url(const std::string& slug = "lobby") const { return url() + "/" + slug + "/"; }
  const std::string& log() const { return log_; }
  // The readers (long-polls, streams) waiting for news in room `slug` now.
  size_t waiting_readers(const std::string& slug = "lobby") const {
    return server_ ? server_->waiting_readers(slug) : 0;
  }

 private:
  uint16_t port_or_zero() const { return server_ ? server_->port() : 0; }

  std::unique_ptr<server::Server> server_;
  std::thread thread_;
  Status started_;
  std::string log_;
};

}  // namespace chaton::testing
