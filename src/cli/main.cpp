// chaton: the command line (docs/CONFIG.md, "The command line").
//
//   chaton serve       [--config FILE] [--listen HOST:PORT] [--data DIR]
//   chaton archive     [--config FILE] [--data DIR] [--room SLUG] [YYYY/MM/DD]
//   chaton check       [--config FILE] [--data DIR] [--room SLUG] [--repair]
//   chaton moderate    [--config FILE] [--data DIR] [--room SLUG] (--entry ID | --address CIDR [--since T])
//   chaton import-conf OLD.conf
//   chaton db init     [--config FILE] [--data DIR]
//   chaton db import   [--config FILE] [--data DIR] [--room SLUG] [--from DATADIR]
//   chaton db export   [--config FILE] [--data DIR] [--room SLUG] [--to DIR] [--force]
//   chaton watch       [-s] URL...
//   chaton post        URL --nick NICK [TEXT]
//   chaton [--help | --version]
//
// Bare `chaton` prints the help on standard output and exits 0. A usage
// mistake (an unknown option, a missing subcommand or argument) prints one
// line on standard error and exits 2, the exit code of bad input
// (cli/commands.h).
//
// This file wires CLI11; the bodies of the operator commands are in
// cli/commands.h and its *_command.cpp files.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "config/config.h"
#include "server/server.h"
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
  chaton::server::Server server(std::move(config.value()), chaton::SystemClock::instance());
  if (auto st = server.start(std::cout); !st) {
    std::cerr << "chaton: " << st.message() << "\n";
    return 1;
  }
  server.run();
  std::cout << "chaton: stopped\n";
  return 0;
}

}  // namespace

namespace {

// --config FILE and --data DIR, as `serve` takes them: the rooms of a command
// that works on rooms.
void add_room_options(CLI::App* cmd, chaton::cli::RoomSelection& rooms) {
  cmd->add_option("--config", rooms.config_file, "TOML configuration file (default: the room lobby only)");
  cmd->add_option("--data", rooms.data_dir, "Directory for room data (replaces site data_dir, as for serve)");
}

// "chaton" and the subcommands the command line named ("chaton db init"):
// where a usage error belongs.
std::string command_named(const CLI::App& app) {
  std::string name = "chaton";
  for (const CLI::App* at = &app; !at->get_subcommands().empty();) {
    at = at->get_subcommands().front();
    name += " " + at->get_name();
  }
  return name;
}

int run_command_line(int argc, char** argv) {
  CLI::App app{"Chaton: a web chat server with live rooms and daily archives"};
  app.set_version_flag("--version", std::string("chaton ") + CHATON_VERSION);
  app.require_subcommand(0, 1);

  ServeOptions serve_opts;
  auto* serve_cmd = app.add_subcommand("serve", "Serve every configured room over HTTP");
  serve_cmd->add_option("--config", serve_opts.config_file, "TOML configuration file")
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("--listen", serve_opts.listen, "Address to listen on, HOST:PORT (port 0: any)");
  serve_cmd->add_option("--data", serve_opts.data_dir, "Directory for room data (site data_dir)");

  chaton::cli::ArchiveOptions archive_opts;
  auto* archive_cmd =
      app.add_subcommand("archive",
                         "Move every day before DATE (default today, UTC) out of each room's live log "
                         "into its daily archive files; safe while the server runs");
  add_room_options(archive_cmd, archive_opts.rooms);
  archive_cmd->add_option("--room", archive_opts.rooms.room, "Only this room (its slug)");
  archive_cmd->add_option("date", archive_opts.date, "YYYY/MM/DD: the first day to keep live (UTC)");

  chaton::cli::CheckOptions check_opts;
  auto* check_cmd =
      app.add_subcommand("check", "Verify each room's data: unreadable lines, counts, sequence, day links");
  add_room_options(check_cmd, check_opts.rooms);
  check_cmd->add_option("--room", check_opts.rooms.room, "Only this room (its slug)");
  check_cmd->add_flag("--repair", check_opts.repair,
                      "Fix what is safe to fix (counts, day links, a torn last line, the sequence); "
                      "posts are never changed");

  chaton::cli::ModerateOptions moderate_opts;
  std::string moderate_entry, moderate_address, moderate_since;
  auto* moderate_cmd =
      app.add_subcommand("moderate",
                         "Remove posts from a room's live log and its archived days (one entry, or "
                         "everything from an address range); safe while the server runs, which then "
                         "reloads the room and makes its readers refresh");
  add_room_options(moderate_cmd, moderate_opts.rooms);
  moderate_cmd->add_option("--room", moderate_opts.rooms.room,
                           "The room (its slug); required when the configuration has several");
  auto* moderate_entry_opt =
      moderate_cmd->add_option("--entry", moderate_entry,
                               "The post to remove: its ENTRY-ID (entry-<hex>-<hex>, the part "
                               "after '#' in its permalink) or the permalink itself");
  auto* moderate_address_opt = moderate_cmd->add_option("--address", moderate_address,
                                                        "Remove every post from this address or CIDR range "
                                                        "(IPv4 or IPv6, e.g. 192.0.2.0/24)");
  auto* moderate_since_opt =
      moderate_cmd->add_option("--since", moderate_since,
                               "With --address: only posts from this time on: unix seconds, "
                               "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC)");

  chaton::cli::ImportOptions import_opts;
  auto* import_cmd = app.add_subcommand(
      "import-conf", "Print the TOML [site] and [[room]] sections for an original Chaton room config");
  import_cmd->add_option("OLD.conf", import_opts.file, "The original room config (its includes are read too)")
      ->required();

  chaton::cli::DbOptions db_opts;
  auto* db_cmd = app.add_subcommand("db", "The PostgreSQL store ([store] url): its schema, and moving a room "
                                          "in and out of it");
  db_cmd->require_subcommand(1);
  auto* db_init_cmd = db_cmd->add_subcommand("init", "Create or migrate the schema; prints its version");
  add_room_options(db_init_cmd, db_opts.rooms);
  auto* db_import_cmd = db_cmd->add_subcommand(
      "import", "Copy a room's posts from its data directory into PostgreSQL (the room must have none there)");
  add_room_options(db_import_cmd, db_opts.rooms);
  db_import_cmd->add_option("--room", db_opts.rooms.room,
                            "The room (its slug); required when the configuration has several");
  db_import_cmd->add_option("--from", db_opts.dir, "The room's data directory (default: its data_dir)");
  auto* db_export_cmd = db_cmd->add_subcommand(
      "export", "Write a PostgreSQL room as the original files: day files before today, current.dat, "
                "sequence, last-post");
  add_room_options(db_export_cmd, db_opts.rooms);
  db_export_cmd->add_option("--room", db_opts.rooms.room,
                            "The room (its slug); required when the configuration has several");
  db_export_cmd->add_option("--to", db_opts.dir, "The data directory to write (default: the room's data_dir)");
  db_export_cmd->add_flag("--force", db_opts.force, "Replace the posts the directory already has");

  chaton::cli::WatchOptions watch_opts;
  auto* watch_cmd = app.add_subcommand(
      "watch", "Print every new post of one or more rooms as '[room] nick: text' until Ctrl-C");
  watch_cmd->add_flag("-s,--silent", watch_opts.silent, "Do not ring the bell on new posts");
  watch_cmd->add_option("URL", watch_opts.urls, "Room URLs, e.g. http://host/lobby/");

  chaton::cli::PostOptions post_opts;
  std::string post_text;
  auto* post_cmd =
      app.add_subcommand("post", "Post TEXT (or standard input) to a room; prints the post's permalink");
  post_cmd->add_option("URL", post_opts.url, "The room URL, e.g. http://host/lobby/");
  post_cmd->add_option("--nick", post_opts.nick, "The nickname to post as");
  auto* post_text_opt =
      post_cmd->add_option("TEXT", post_text, "The text; read from standard input when absent");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help, --version
    const std::string command = command_named(app);
    std::cerr << command << ": " << e.what() << " (see " << command << " --help)\n";
    return chaton::cli::kExitBadInput;
  }
  if (app.get_subcommands().empty()) {  // bare `chaton`
    std::cout << app.help();
    return chaton::cli::kExitOk;
  }
  if (serve_cmd->parsed()) return serve(serve_opts);
  if (archive_cmd->parsed()) return chaton::cli::run_archive(archive_opts, std::cout, std::cerr);
  if (check_cmd->parsed()) return chaton::cli::run_check(check_opts, std::cout, std::cerr);
  if (moderate_cmd->parsed()) {
    if (moderate_entry_opt->count() > 0) moderate_opts.entry = moderate_entry;
    if (moderate_address_opt->count() > 0) moderate_opts.address = moderate_address;
    if (moderate_since_opt->count() > 0) moderate_opts.since = moderate_since;
    return chaton::cli::run_moderate(moderate_opts, std::cout, std::cerr);
  }
  if (import_cmd->parsed()) return chaton::cli::run_import(import_opts, std::cout, std::cerr);
  if (db_init_cmd->parsed()) return chaton::cli::run_db_init(db_opts, std::cout, std::cerr);
  if (db_import_cmd->parsed()) return chaton::cli::run_db_import(db_opts, std::cout, std::cerr);
  if (db_export_cmd->parsed()) return chaton::cli::run_db_export(db_opts, std::cout, std::cerr);
  if (watch_cmd->parsed()) return chaton::cli::run_watch(watch_opts, std::cout, std::cerr);
  if (post_cmd->parsed()) {
    if (post_text_opt->count() > 0) post_opts.text = post_text;
    return chaton::cli::run_post(post_opts, std::cin, std::cout, std::cerr);
  }
  return 0;
}

}  // namespace

// Whatever escapes a command (a failure the commands do not answer as a
// value, such as running out of memory) ends the process with a message
// and status 1, not with std::terminate.
int main(int argc, char** argv) {
  try {
    return run_command_line(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "chaton: " << e.what() << "\n";
    return 1;
  }
}
