// chaton: the command line (spec B2).
//
//   chaton serve   [--config FILE] [--listen HOST:PORT] [--data DIR]
//   chaton --help | --version
#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>

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

  CLI11_PARSE(app, argc, argv);
  if (serve_cmd->parsed()) return serve(serve_opts);
  return 0;
}
