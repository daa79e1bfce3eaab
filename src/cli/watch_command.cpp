// `chaton watch [-s] URL...`: the original watcher. Follows one or more
// rooms (one chaton::Client each) and prints every new post as
// `[Room Name] nick: text`, continuation lines of a multi-line post
// indented under the text, and rings the terminal bell after each batch
// unless -s. Connection trouble goes to standard error; the clients retry
// on their own. SIGINT, SIGTERM or SIGHUP end it cleanly.
#include <signal.h>

#include <memory>
#include <mutex>
#include <vector>

#include "cli/commands.h"
#include "client/client.h"

namespace chaton::cli {

namespace {

constexpr std::string_view kWatchWho = "chaton-watch";
constexpr char kBell = '\a';

// Characters, not bytes, so indentation lines up under UTF-8 nicknames.
size_t display_width(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string format_watch_line(std::string_view room, const PacketPost& post) {
  std::string prefix = "[" + std::string(room) + "] " + post.nick + ": ";
  std::string indent(display_width(prefix), ' ');
  std::string line = prefix;
  for (char c : post.text) {
    line.push_back(c);
    if (c == '\n') line += indent;
  }
  return line;
}

}  // namespace

int run_watch(const WatchOptions& options, std::ostream& out, std::ostream& err) {
  if (options.urls.empty()) {
    err << "chaton watch: usage: chaton watch [-s] URL...\n";
    return kExitBadInput;
  }
  // Block the stop signals before any client thread exists, so they are
  // all delivered to sigwait() below and never interrupt a client.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, sig);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::mutex print_mu;
  std::vector<std::unique_ptr<Client>> clients;
  for (const std::string& url : options.urls) {
    auto c = Client::connect(url, std::string(kWatchWho));
    if (!c) {
      err << "chaton watch: " << url << ": " << c.status().message() << "\n";
      return kExitFailed;
    }
    clients.push_back(std::make_unique<Client>(std::move(c.value())));
  }
  for (auto& c : clients) {
    std::string room = c->room_name().empty() ? c->room_url() : c->room_name();
    auto on_packet = [&out, &print_mu, room, silent = options.silent](const Packet& p) {
      if (p.posts.empty()) return;
      std::lock_guard lock(print_mu);
      for (const PacketPost& post : p.posts) out << format_watch_line(room, post) << "\n";
      if (!silent) out << kBell;
      out.flush();
    };
    auto on_error = [&err, &print_mu, room](const Status& st) {
      std::lock_guard lock(print_mu);
      err << "chaton watch: [" << room << "] " << st.message() << "; retrying\n";
      err.flush();
    };
    if (Status st = c->observe(on_packet, on_error); !st) {
      err << "chaton watch: " << st.message() << "\n";
      return kExitFailed;
    }
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  for (auto& c : clients) c->bye();
  return kExitOk;
}

}  // namespace chaton::cli
