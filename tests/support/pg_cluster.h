// PgCluster: a throw-away PostgreSQL cluster for the tests, run by
// scripts/pg_cluster.sh (the same script the Node tests and CTest's `pg`
// fixture use).
//
// PgCluster::shared() is the process's cluster: the one already running in
// $CHATON_PG_DIR when set (CTest sets it for the tests that carry the `pg`
// fixture, so the processes of one ctest run share one cluster), else one
// started on first use under $CHATON_TEST_TMP (or the temp dir) and stopped
// when the process exits. A test isolates itself with fresh_database(),
// which creates an empty database owned by `chaton` and returns its URL.
// A test that stops or restarts the database makes a cluster of its own:
// PgCluster cluster{PgCluster::Own{}}.
//
// Tests start with CHATON_REQUIRE_PG() (or CHATON_REQUIRE_PG_CLUSTER(c)): it
// skips the test when PostgreSQL's server binaries are not installed, unless
// CI=true, where a missing PostgreSQL fails (CI never skips silently); any
// other failure to start a cluster fails the test.
//
// Thread-safety: shared() and the const members may be called from any
// thread. Must outlive: nothing; the URLs stay valid while the cluster runs.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#ifndef CHATON_SOURCE_DIR  // where scripts/pg_cluster.sh is
#error "tests/support/pg_cluster.h needs CHATON_SOURCE_DIR (chaton_module(... PG_TESTS ...) defines it)"
#endif

namespace chaton::testing {

// Whether a missing PostgreSQL fails rather than skips: on CI (CI=true).
inline bool pg_required() {
  const char* ci = std::getenv("CI");
  return ci && std::string_view(ci) == "true";
}

class PgCluster {
 public:
  struct Own {};

  // The process-wide cluster (see above).
  static PgCluster& shared() {
    static PgCluster cluster;
    return cluster;
  }

  // A cluster of one's own, started now under the test tmp dir and removed
  // by the destructor.
  explicit PgCluster(Own) { start_own(); }

  ~PgCluster() {
    if (owned_ && ::getpid() == owner_pid_) {
      run_script("stop " + quote(dir_.string()) + " --remove");
    }
  }
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // Whether the cluster runs; else error() says why.
  bool ok() const { return !url_.empty(); }
  // False when PostgreSQL's server binaries are missing.
  bool installed() const { return installed_; }
  const std::string& error() const { return error_; }

  // postgresql://chaton@127.0.0.1:PORT/chaton
  const std::string& url() const { return url_; }
  const std::filesystem::path& dir() const { return dir_; }

  // A new, empty database named after `name_hint` (made unique) and owned
  // by chaton; returns its URL. Throws std::runtime_error on failure.
  std::string fresh_database(std::string_view name_hint) const {
    static std::atomic<int> counter{0};
    std::string name;
    for (char c : name_hint.substr(0, 32)) {
      bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a'), keep = true;
      name += keep ? c : '_';
    }
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) name = "t_" + name;
    std::random_device random;
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, "_%d_%d_%06x", static_cast<int>(::getpid()), counter++,
                  static_cast<unsigned>(random() & 0xffffff));
    name += suffix;
    return checked("createdb " + quote(dir_.string()) + " " + name);
  }

  // Stops the server (the database becomes unreachable); restart() brings
  // it back. Throws std::runtime_error on failure, std::logic_error on the
  // cluster of $CHATON_PG_DIR (shared with other processes).
  void stop() const { checked("stop " + quote(own_dir("stop"))); }
  // Stops (if running) and starts the server again on the same port.
  void restart() const { checked("restart " + quote(own_dir("restart"))); }

 private:
  struct Output {
    int status;
    std::string last_line;
  };

  PgCluster() {
    const char* dir = std::getenv("CHATON_PG_DIR");
    if (!dir || !*dir) {
      start_own();
      return;
    }
    dir_ = dir;
    std::ifstream in(dir_ / "url");
    std::getline(in, url_);
    if (!url_.empty()) return;
    if (run_script("check").status == 2) {
      installed_ = false;
      error_ = "PostgreSQL server binaries not installed (scripts/pg_cluster.sh check)";
    } else {
      error_ = "no cluster running in CHATON_PG_DIR=" + dir_.string() +
               " (did pg_cluster_start fail? see its log there)";
    }
  }

  void start_own() {
    const char* base = std::getenv("CHATON_TEST_TMP");
    auto root = base && *base ? std::filesystem::path(base) : std::filesystem::temp_directory_path();
    std::random_device random;
    dir_ = root / ("pg-" + std::to_string(::getpid()) + "-" + std::to_string(random() & 0xffffff));
    owned_ = true;
    owner_pid_ = ::getpid();
    auto out = run_script("start " + quote(dir_.string()));
    if (out.status == 0 && out.last_line.starts_with("postgresql://")) {
      url_ = out.last_line;
    } else if (out.status == 2) {
      installed_ = false;
      error_ = "PostgreSQL server binaries not installed (scripts/pg_cluster.sh exited 2)";
    } else {
      error_ = "scripts/pg_cluster.sh start " + dir_.string() + " failed (exit " +
               std::to_string(out.status) + "; see " + (dir_ / "log").string() + ")";
    }
  }

  // The cluster's folder, when this process started it: stopping the one in
  // $CHATON_PG_DIR would disturb the other tests of the run.
  std::string own_dir(const char* what) const {
    if (!owned_) {
      throw std::logic_error(std::string(what) +
                             "() on the cluster in CHATON_PG_DIR: use PgCluster{PgCluster::Own{}}");
    }
    return dir_.string();
  }

  static std::filesystem::path script() {
    return std::filesystem::path(CHATON_SOURCE_DIR) / "scripts/pg_cluster.sh";
  }

  static std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }

  // Runs the script; its stderr goes to the test's, its last stdout line is
  // kept.
  static Output run_script(const std::string& args) {
    std::string command = "bash " + quote(script().string()) + " " + args;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return {-1, {}};
    std::string last, line;
    std::array<char, 512> buffer{};
    while (std::fgets(buffer.data(), buffer.size(), pipe)) {
      line += buffer.data();
      if (!line.empty() && line.back() == '\n') {
        line.pop_back();
        if (!line.empty()) last = line;
        line.clear();
      }
    }
    if (!line.empty()) last = line;
    int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, last};
  }

  static std::string checked(const std::string& args) {
    auto out = run_script(args);
    if (out.status != 0) {
      throw std::runtime_error("scripts/pg_cluster.sh " + args + " failed (exit " +
                               std::to_string(out.status) + ")");
    }
    return out.last_line;
  }

  std::filesystem::path dir_;
  std::string url_;
  std::string error_;
  bool installed_ = true;
  bool owned_ = false;
  pid_t owner_pid_ = 0;
};

}  // namespace chaton::testing

// At the start of a test that needs PostgreSQL: skips it when the server
// binaries are missing (fails instead when CI=true), fails it when the
// cluster could not be started.
#define CHATON_REQUIRE_PG_CLUSTER(cluster)                                                        \
  do {                                                                                            \
    const ::chaton::testing::PgCluster& chaton_pg_cluster_ = (cluster);                           \
    if (!chaton_pg_cluster_.ok()) {                                                               \
      if (chaton_pg_cluster_.installed()) FAIL() << chaton_pg_cluster_.error();                   \
      if (::chaton::testing::pg_required()) FAIL() << chaton_pg_cluster_.error() << " (CI=true)"; \
      GTEST_SKIP() << chaton_pg_cluster_.error();                                                 \
    }                                                                                             \
  } while (false)

#define CHATON_REQUIRE_PG() CHATON_REQUIRE_PG_CLUSTER(::chaton::testing::PgCluster::shared())
