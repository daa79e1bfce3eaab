// chaton::Client: a program's connection to a chat room, speaking the
// original Chaton client protocol (docs/PROTOCOL.md, "API login" and "The
// comet long-poll"; docs/CLIENT.md), so it works against this server and
// against original installations alike.
//
//   auto c = chaton::Client::connect("http://host/lobby/", "my-bot");
//   if (!c) { report(c.status().message()); return; }
//   c->observe([](const chaton::Packet& p) {
//     for (const auto& post : p.posts) std::cout << post.nick << ": " << post.text << "\n";
//   });
//   auto ack = c->talk("bot", "hello");   // Result<PostAck>
//   c->bye();
//
// connect() logs in at `<room>/apilogin` (S-expression reply). observe()
// runs the comet loop on a background thread: GET comet-uri?t=…&c=cid&p=pos&s=1
// again and again, taking cid and pos from every reply and handing each
// packet (pings included) to the callback, until bye(). After a failure it
// waits a random retry_min..retry_max (5-15 s, as the original) and goes on
// from the same pos, so no post is missed while the room keeps it live; a
// reply saying the cid expired makes it log in again.
//
// Errors are values: nothing here throws. Callbacks run on the observer
// thread; an exception escaping one is caught and reported as an error.
// Thread-safety: talk(), permalink() and the accessors may be called from
// any thread while observing; bye() too, including from a callback.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace chaton {

struct ClientOptions {
  std::chrono::milliseconds retry_min{5000};  // wait after a failure: random in [min, max]
  std::chrono::milliseconds retry_max{15000};
  std::chrono::milliseconds request_timeout{30000};  // apilogin and talk
  std::chrono::milliseconds comet_timeout{480000};   // a long-poll with no reply is lost (8 min)
  std::string ca_file;  // https: a CA bundle to trust instead of the system store
};

// One post as a packet carries it.
struct PacketPost {
  std::string nick;
  int64_t sec = 0;
  int64_t usec = 0;
  std::string text;
};

// One comet reply. `posts` is empty for a ping or a fresh cid.
struct Packet {
  uint64_t pos = 0;
  uint64_t nc = 0;  // chatters in the room
  std::string ver;  // the server's version
  int64_t cid = 0;
  std::vector<PacketPost> posts;
};

// What a server says about an accepted post. This server sends all three;
// an original server sends none, so they are empty then.
struct PostAck {
  std::optional<uint64_t> pos;
  std::string id;         // "entry-…"
  std::string permalink;  // absolute
};

// Parses a comet reply in the S-expression format (`s=1`).
Result<Packet> parse_packet(std::string_view sexpr);

class Client {
 public:
  using PacketHandler = std::function<void(const Packet&)>;
  using ErrorHandler = std::function<void(const Status&)>;

  // Logs in at `room_url` (a trailing '/' is added when missing); `who`
  // names the program in the server's log.
  static Result<Client> connect(std::string room_url, std::string who, ClientOptions options = {});

  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();  // bye()

  // Starts the comet loop. `on_error` (optional) hears every failure before
  // the loop waits and retries. Refused when already observing.
  Status observe(PacketHandler on_packet, ErrorHandler on_error = {});

  // Posts `text` as `nick`; blocks until the server answers. A refusal is a
  // Status with the server's one-line reason (400 → invalid, 403 →
  // forbidden, 413 → too_large, 429 → rate_limited, other → io).
  Result<PostAck> talk(std::string_view nick, std::string_view text);

  // Stops observing and waits for the loop to end (not when called from a
  // callback: the loop then ends after that callback returns). Idempotent.
  void bye();

  // "<room url>a/YYYY/MM/DD#entry-…" for a post stamped (sec, usec).
  std::string permalink(int64_t sec, int64_t usec) const;

  const std::string& room_url() const;
  const std::string& room_name() const;
  const std::string& post_uri() const;
  const std::string& comet_uri() const;
  const std::string& icon_uri() const;
  int64_t cid() const;
  uint64_t pos() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chaton
