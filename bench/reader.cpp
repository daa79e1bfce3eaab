#include "reader.h"

#include <netinet/in.h>

#include <stdexcept>

#include "nchan.h"
#include "rx_stamped_socket.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace chaton::bench {

void Reader::start() {
  tcp::socket& sock = fresh_socket();
  buf_.clear();
  if (cid_per_connection_) have_cid_ = false;
  beast::error_code ec;
  sock.open(tcp::v4(), ec);
  if (ec) return fail("socket: " + ec.message());
  int one = 1;  // let connect() pick the port for the 4-tuple, not bind()
  ::setsockopt(sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  enable_rx_stamps(sock);  // latencies to the kernel's receive time (rx_stamped_socket.h)
  sock.bind(tcp::endpoint(source_, 0), ec);
  if (ec) return fail("bind " + source_.to_string() + ": " + ec.message());
  sock.async_connect(server(), current([this](beast::error_code e) { on_connect(e); }));
}

void Reader::on_connect(beast::error_code ec) {
  if (ec) return fail("connect: " + ec.message());
  socket().set_option(tcp::no_delay(true), ec);
  on_connected();
}

void Reader::close() {
  dead_ = true;
  beast::error_code ec;
  socket().close(ec);
}

void Reader::count_bytes_in(size_t n) { w_.shared.bytes_in.fetch_add(n, std::memory_order_relaxed); }
void Reader::count_bytes_out(size_t n) { w_.shared.bytes_out.fetch_add(n, std::memory_order_relaxed); }

int64_t Reader::arrival(const RxStampedSocket& s) {
  if (auto t = s.received_at()) return *t;
  ++w_.unstamped;
  return now_ns();
}

const tcp::endpoint& Reader::server() const { return w_.shared.servers[w_.shared.node_of(index_)]; }
const std::string& Reader::host() const { return w_.shared.hosts[w_.shared.node_of(index_)]; }

bool Reader::nchan() const { return w_.shared.peer == Peer::nchan; }

std::string Reader::target(Transport t, std::string_view chaton_target) const {
  if (!nchan()) return std::string(chaton_target);
  std::string s = nchan_sub_target(t);
  if (!nchan_id_.empty()) s += "?last_event_id=" + url_encode(nchan_id_);
  return s;
}

bool Reader::on_packet(std::string_view body, int64_t now) {
  w_.shared.packets.fetch_add(1, std::memory_order_relaxed);
  if (nchan()) {  // a message is one post's text
    ++received_;
    w_.on_post_item(index_, body, now);
    have_cid_ = true;
    return true;
  }
  try {
    json::value v = json::parse(json::string_view(body.data(), body.size()));
    const json::object& o = v.as_object();
    int64_t cid = o.at("cid").to_number<int64_t>();
    auto pos = o.at("pos").to_number<uint64_t>();
    const json::array& content = o.at("content").as_array();
    if (cid <= 0) {
      fail("packet with cid " + std::to_string(cid));
      return false;
    }
    if (have_cid_ && cid != cid_) ++w_.cid_changes;
    if (have_cid_ && content.empty()) ++w_.empty_replies;
    cid_ = cid;
    pos_ = pos;
    for (const json::value& item : content) {
      const json::string& text = item.as_array().at(2).as_string();
      ++received_;
      w_.on_post_item(index_, std::string_view(text.data(), text.size()), now);
    }
    have_cid_ = true;
  } catch (const std::exception& e) {
    fail(std::string("packet not understood: ") + e.what());
    return false;
  }
  return true;
}

void Reader::mark_waiting() {
  if (waiting_) return;
  waiting_ = true;
  w_.shared.waiting.fetch_add(1, std::memory_order_relaxed);
  w_.setup_done();
}

void Reader::fail(const std::string& what) {
  if (dead_) return;
  if (w_.shared.stopping) return close();
  w_.record_error(what);
  if (waiting_ && reconnects_ < w_.max_reconnects) {
    // As the browser client does (without its 5-15 s pause): a new
    // connection that resumes from pos, so no post should be missed. The
    // new connection starts from the event loop, once the caller (perhaps
    // in the middle of a read) has returned.
    ++reconnects_;
    w_.shared.reconnections.fetch_add(1, std::memory_order_relaxed);
    ++gen_;
    beast::error_code ec;
    socket().close(ec);
    net::post(w_.ioc, current([this] { start(); }));
    return;
  }
  close();
  lost_ = true;
  if (waiting_) {
    w_.shared.lost_deliveries.fetch_add(received_, std::memory_order_relaxed);
    w_.shared.failed_later.fetch_add(1, std::memory_order_relaxed);
  } else {
    w_.shared.setup_failed.fetch_add(1, std::memory_order_relaxed);
    w_.setup_done();
  }
}

std::unique_ptr<Reader> make_reader(Transport t, Worker& w, uint32_t index, net::ip::address_v4 source) {
  switch (t) {
    case Transport::comet:
      return make_comet_reader(w, index, source);
    case Transport::sse:
      return make_sse_reader(w, index, source);
    case Transport::ws:
      return make_ws_reader(w, index, source);
  }
  throw std::logic_error("unknown transport");
}

}  // namespace chaton::bench
