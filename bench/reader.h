// The readers of the room: Reader owns everything that does not depend on
// the transport (the source address and connect, the packets' meaning,
// the waiting state, failure and reconnection); CometReader, SseReader and
// WsReader (comet_reader.cpp, sse_reader.cpp, ws_reader.cpp) supply the
// wire. A Worker runs a share of the readers on an io_context of its own
// thread; Shared holds what the readers and the orchestrator both see.
// Thread-safety: a reader runs on its worker's thread only; Shared's
// counters are atomics; everything else is read after the workers joined.
// Lifetime: Shared outlives the workers; a worker outlives its readers.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common.h"
#include "options.h"
#include "rx_stamped_socket.h"

namespace chaton::bench {

constexpr uint64_t kMaxPacketBytes = 64u << 20;  // the largest reply, event or message accepted
constexpr size_t kStreamReadBytes = 16384;       // one read of an event stream's body
constexpr int kMaxReconnects = 1000;             // per reader, when reconnecting is on

// What a phase's readers share with the orchestrator.
struct Shared {
  // The servers the readers connect to (the nodes of the phase), each with
  // its Host header: reader i of `readers` goes to server node_of(i), the
  // readers being shared out in consecutive blocks.
  std::vector<tcp::endpoint> servers;
  std::vector<std::string> hosts;
  uint32_t readers = 0;
  size_t node_of(uint32_t reader) const {
    return readers == 0 ? 0 : static_cast<size_t>(uint64_t{reader} * servers.size() / readers);
  }
  // Chaton, or nginx + Nchan: the reader's protocol adapter (which target,
  // which validators, what a message is: see Reader::on_packet).
  Peer peer = Peer::chaton;
  // Fan-out only: M, and a byte per (reader, post) to find duplicates.
  int matrix_posts = 0;
  std::vector<uint8_t> seen;

  std::atomic<uint64_t> waiting{0};          // readers that reached the waiting state
  std::atomic<uint64_t> setup_failed{0};     // readers lost before they waited
  std::atomic<uint64_t> failed_later{0};     // readers lost after they waited
  std::atomic<uint64_t> reconnections{0};    // connections of waiting readers that failed
  std::atomic<uint64_t> deliveries{0};       // (reader, post) pairs received
  std::atomic<uint64_t> lost_deliveries{0};  // of which to readers lost since
  std::atomic<uint64_t> bytes_in{0};         // from the server, as the readers read them
  std::atomic<uint64_t> bytes_out{0};        // requests the readers wrote
  std::atomic<uint64_t> packets{0};          // replies, events or messages received
  std::atomic<int64_t> last_delivery_ns{0};
  std::atomic<bool> stopping{false};
};

// After stop(): deliveries missing at readers still connected, and posts
// delivered twice, given that each should have had `per_client` posts.
struct Tally {
  uint64_t alive = 0, lost = 0;
  uint64_t missing_alive = 0, extra_alive = 0;
  uint64_t missing_lost = 0;  // what lost readers did not get before they were lost
};

class Worker;

// One reader of the room. The base class does everything that does not
// depend on the transport: the connection's source address and connect, the
// packets' meaning, the waiting state, failure and reconnection. A transport
// provides a fresh socket, starts its exchange once connected, and hands
// every packet it reads to on_packet().
class Reader {
 public:
  Reader(Worker& w, uint32_t index, net::ip::address_v4 source, bool cid_per_connection)
      : w_(w), index_(index), source_(source), cid_per_connection_(cid_per_connection) {}
  virtual ~Reader() = default;
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Opens a new connection (the first, or after a failure).
  void start();
  // Closes for good: no callback of this reader runs any more.
  void close();
  uint64_t received() const { return received_; }
  bool lost() const { return lost_; }
  bool waited() const { return waiting_; }

 protected:
  // A closed socket, with the transport's per-connection state reset.
  virtual tcp::socket& fresh_socket() = 0;
  // The current connection's socket.
  virtual tcp::socket& socket() = 0;
  // Connected: send the request, or do the handshake, and start reading.
  virtual void on_connected() = 0;

  // A completion handler that runs only if the reader is still open and on
  // the same connection as when the operation began.
  template <class F>
  auto current(F f) {
    return [this, g = gen_, f = std::move(f)](auto&&... args) {
      if (g == gen_ && !dead_) f(std::forward<decltype(args)>(args)...);
    };
  }

  // One comet JSON packet, received at `now`; from Nchan, one message,
  // which is one post's text. False if it was not understood: the reader
  // has failed.
  bool on_packet(std::string_view body, int64_t now);
  bool nchan() const;
  // This reader's server and its Host header.
  const tcp::endpoint& server() const;
  const std::string& host() const;
  // When the kernel received the packet just read from `s`: its stamp, or
  // now when it has none (counted, and reported).
  int64_t arrival(const RxStampedSocket& s);
  // The request target of transport `t`: `chaton_target`, or Nchan's
  // location for it (with the last message's id, to resume from).
  std::string target(Transport t, std::string_view chaton_target) const;
  // The reader now waits for posts (counted once).
  void mark_waiting();
  void fail(const std::string& what);
  void count_bytes_in(size_t n);
  void count_bytes_out(size_t n);

  Worker& w_;
  beast::flat_buffer buf_;  // cleared for each connection
  int64_t cid_ = 0;
  uint64_t pos_ = 0;
  bool have_cid_ = false;
  std::string nchan_id_;  // Nchan: the id of the last message, where the transport says it

 private:
  void on_connect(beast::error_code ec);

  uint32_t index_;
  net::ip::address_v4 source_;
  bool cid_per_connection_;  // streams get a new cid per connection; a long-poll keeps its own
  uint64_t received_ = 0;
  bool waiting_ = false;
  bool dead_ = false;
  bool lost_ = false;  // the connection failed while the run went on
  int reconnects_ = 0;
  uint32_t gen_ = 0;  // connection number: callbacks of an old one are ignored
};

class Worker {
 public:
  Worker(Shared& sh, int window) : shared(sh), window_(window), guard_(net::make_work_guard(ioc)) {}

  void run_thread() {
    thread_ = std::thread([this] { ioc.run(); });
  }
  void begin() {
    net::post(ioc, [this] { start_more(); });
  }
  void start_more() {
    while (in_setup_ < window_ && next_ < readers.size() && !shared.stopping) {
      ++in_setup_;
      readers[next_++]->start();
    }
  }
  void setup_done() {
    --in_setup_;
    start_more();
  }
  // Closes every connection and ends the thread.
  void stop() {
    net::post(ioc, [this] {
      for (auto& r : readers) r->close();
      guard_.reset();
      ioc.stop();
    });
    if (thread_.joinable()) thread_.join();
  }

  void record_error(const std::string& what) { ++errors[what]; }

  void on_post_item(uint32_t client, std::string_view text, int64_t now) {
    uint64_t id = 0;
    int64_t sent = 0;
    if (!parse_post_text(text, id, sent)) {
      ++foreign_items;
      return;
    }
    int64_t lat = std::max<int64_t>(0, now - sent) / 1000;  // µs
    uint32_t lat32 = static_cast<uint32_t>(std::min<int64_t>(lat, UINT32_MAX));
    if (shared.matrix_posts > 0) {
      if (id >= static_cast<uint64_t>(shared.matrix_posts)) {
        ++foreign_items;
        return;
      }
      uint8_t& s = shared.seen[static_cast<size_t>(client) * shared.matrix_posts + id];
      if (s) {
        ++duplicates;
        return;
      }
      s = 1;
      if (per_post_max.size() < static_cast<size_t>(shared.matrix_posts))
        per_post_max.resize(static_cast<size_t>(shared.matrix_posts), 0);
      per_post_max[id] = std::max(per_post_max[id], lat32);
    }
    latencies_us.push_back(lat32);
    shared.deliveries.fetch_add(1, std::memory_order_relaxed);
    int64_t prev = shared.last_delivery_ns.load(std::memory_order_relaxed);
    while (prev < now && !shared.last_delivery_ns.compare_exchange_weak(prev, now)) {
    }
  }

  net::io_context ioc{1};
  Shared& shared;
  std::vector<std::unique_ptr<Reader>> readers;  // destroyed before ioc
  std::vector<uint32_t> latencies_us;
  std::vector<uint32_t> per_post_max;  // fan-out: slowest delivery of each post, µs
  std::map<std::string, uint64_t> errors;
  uint64_t empty_replies = 0;  // packets with no posts, other than a connection's first
  uint64_t cid_changes = 0;    // packets naming another cid than the reader's
  uint64_t unstamped = 0;      // packets read without the kernel's receive stamp
  uint64_t duplicates = 0;
  uint64_t foreign_items = 0;  // posts in content that this run did not send
  int max_reconnects = 0;

 private:
  int window_;
  size_t next_ = 0;
  int in_setup_ = 0;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::thread thread_;
};

// A reader of the transport `t`, one per kind in its own file.
std::unique_ptr<Reader> make_reader(Transport t, Worker& w, uint32_t index, net::ip::address_v4 source);
std::unique_ptr<Reader> make_comet_reader(Worker& w, uint32_t index, net::ip::address_v4 source);
std::unique_ptr<Reader> make_sse_reader(Worker& w, uint32_t index, net::ip::address_v4 source);
std::unique_ptr<Reader> make_ws_reader(Worker& w, uint32_t index, net::ip::address_v4 source);

}  // namespace chaton::bench
