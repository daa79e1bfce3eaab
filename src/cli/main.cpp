// chaton: the command line (spec B2).
//
//   chaton serve       [--config FILE] [--listen HOST:PORT] [--data DIR]
//   chaton archive     [--config FILE] [--room SLUG] [YYYY/MM/DD]
//   chaton check       [--config FILE] [--room SLUG] [--repair]
//   chaton import-conf OLD.conf
//   chaton --help | --version
//
// This file wires CLI11; the bodies of the operator commands are in
// cli/commands.h and its *_command.cpp files.
#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "config/config.h"
#include "http/server.h"
#include "util/clock.h"

namespace {

struct ServeOptions {
  std::string config_file;
  std::string listen;
  std::string data_dir;
};

chaton::Result<chaton::Config> load(const ServeOptions& o) {
  chaton::Config config = chaton::default_config();
  if (!o.config_file.empty()) {
    auto loaded = chaton::load_config(o.config_file);
    if (!loaded) return loaded.status();
    config = std::move(loaded.value());
  }
  if (!o.listen.empty()) config.site.listen = o.listen;
  if (!o.data_dir.empty()) {
    config.site.data_dir = o.data_dir;
  }
  if (auto st = chaton::finalize(config); !st) return st;
  return config;
}

int serve(const ServeOptions& o) {
  auto config = load(o);
  if (!config) {
    std::cerr << "chaton: " << config.status().message() << "\n";
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  chaton::http::Server server(std::move(config.value()), chaton::SystemClock::instance());
  if (auto st = server.start(std::cout); !st) {
    std::cerr << "chaton: " << st.message() << "\n";
    return 1;
  }
  server.run();
  std::cout << "chaton: stopped\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chaton: a web chat server with live rooms and daily archives"};
  app.set_version_flag("--version", std::string("chaton ") + CHATON_VERSION);
  app.require_subcommand(1);

  ServeOptions serve_opts;
  auto* serve_cmd = app.add_subcommand("serve", "Serve every configured room over HTTP");
  serve_cmd->add_option("--config", serve_opts.config_file, "TOML configuration file")
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("--listen", serve_opts.listen, "Address to listen on, HOST:PORT (port 0: any)");
  serve_cmd->add_option("--data", serve_opts.data_dir, "Directory for room data (site data_dir)");

  chaton::cli::ArchiveOptions archive_opts;
  auto* archive_cmd = app.add_subcommand(
      "archive", "Move every day before DATE (default today, UTC) out of each room's live log "
                 "into its daily archive files; safe while the server runs");
  archive_cmd->add_option("--config", archive_opts.rooms.config_file, "TOML configuration file");
  archive_cmd->add_option("--room", archive_opts.rooms.room, "Only this room (its slug)");
  archive_cmd->add_option("date", archive_opts.date, "YYYY/MM/DD: the first day to keep live (UTC)");

  chaton::cli::CheckOptions check_opts;
  auto* check_cmd = app.add_subcommand(
      "check", "Verify each room's data: unreadable lines, counts, sequence, day links");
  check_cmd->add_option("--config", check_opts.rooms.config_file, "TOML configuration file");
  check_cmd->add_option("--room", check_opts.rooms.room, "Only this room (its slug)");
  check_cmd->add_flag("--repair", check_opts.repair,
                      "Fix what is safe to fix (counts, day links, a torn last line, the sequence); "
                      "posts are never changed");

  chaton::cli::ImportOptions import_opts;
  auto* import_cmd = app.add_subcommand(
      "import-conf", "Print the TOML [site] and [[room]] sections for an original Chaton room config");
  import_cmd->add_option("OLD.conf", import_opts.file, "The original room config (its includes are read too)")
      ->required();

  CLI11_PARSE(app, argc, argv);
  if (serve_cmd->parsed()) return serve(serve_opts);
  if (archive_cmd->parsed()) return chaton::cli::run_archive(archive_opts, std::cout, std::cerr);
  if (check_cmd->parsed()) return chaton::cli::run_check(check_opts, std::cout, std::cerr);
  if (import_cmd->parsed()) return chaton::cli::run_import(import_opts, std::cout, std::cerr);
  return 0;
}
