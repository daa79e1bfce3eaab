#include "pg.h"

#include <cstdio>
#include <stdexcept>

namespace chaton::bench {

namespace {

// The whole stdout of a shell command, or nothing if it failed.
std::optional<std::string> command_output(const std::string& cmd) {
  std::FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return std::nullopt;
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  if (::pclose(f) != 0) return std::nullopt;
  return out;
}

std::string last_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  auto nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

// Single-quoted for the shell; the paths and URLs here never hold a quote.
std::string quoted(const std::string& s) {
  if (s.find('\'') != std::string::npos) throw std::runtime_error("path not usable in a command: " + s);
  return "'" + s + "'";
}

}  // namespace

std::string pg_database(Run& run) {
  const std::string script = quoted(run.options.pg_cluster);
  if (run.pg_dir.empty()) {
    fs::path dir = run.tmp / "pg";
    note("starting a PostgreSQL cluster in " + dir.string());
    auto bindir = command_output(script + " check");
    if (!bindir) throw std::runtime_error("no PostgreSQL server binaries (" + run.options.pg_cluster + " check)");
    run.psql = (fs::path(last_line(*bindir)) / "psql").string();
    run.pg_dir = dir;  // stopped by Run::stop_pg() from here on, even half started
    if (!command_output(script + " start " + quoted(dir.string()) + " 2>&1"))
      throw std::runtime_error("the PostgreSQL cluster did not start (" + (dir / "log").string() + ")");
  }
  std::string name = fmt("chaton_bench_%d", ++run.pg_databases);
  auto url = command_output(script + " createdb " + quoted(run.pg_dir.string()) + " " + name);
  if (!url) throw std::runtime_error("could not create database " + name);
  return last_line(*url);
}

std::optional<int64_t> pg_next_xid(const Run& run, const std::string& url) {
  auto out = command_output(quoted(run.psql) + " -X -A -t -q -d " + quoted(url) +
                            " -c 'SELECT txid_snapshot_xmax(txid_current_snapshot())' 2>/dev/null");
  if (!out) return std::nullopt;
  try {
    return std::stoll(last_line(*out));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace chaton::bench
