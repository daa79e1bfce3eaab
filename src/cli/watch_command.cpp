// `chaton watch [-s] URL...`: the original watcher. Follows one or more
// rooms (one chaton::Client each) and prints every new post as
// `[Room Name] nick: text`, continuation lines of a multi-line post
// indented under the text, and rings the terminal bell after each batch
// unless -s. Connection trouble goes to standard error; the clients retry
// on their own. SIGINT, SIGTERM or SIGHUP end it cleanly.
#include <signal.h>

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "client/client.h"

namespace chaton::cli {

namespace {

constexpr std::string_view kWatchWho = "chaton-watch";
constexpr char kBell = '\a';

// East Asian wide and fullwidth characters (and emoji) take two columns.
constexpr std::pair<char32_t, char32_t> kWideRanges[] = {
    {0x1100, 0x115F}, {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},
    {0xA000, 0xA4CF}, {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},
    {0xFFE0, 0xFFE6}, {0x1F300, 0x1F64F}, {0x1F900, 0x1F9FF}, {0x20000, 0x3FFFD},
};

bool is_wide(char32_t cp) {
  for (auto [lo, hi] : kWideRanges)
    if (cp >= lo && cp <= hi) return true;
  return false;
}

// Terminal columns of UTF-8 text, so continuation lines line up under the
// text after Japanese or other wide nicknames.
size_t display_width(std::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    auto lead = static_cast<unsigned char>(s[i]);
    size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? lead : lead & (0x7F >> len);
    for (size_t k = 1; k < len && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    width += is_wide(cp) ? 2 : 1;
    i += len;
  }
  return width;
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
