// RxStampedSocket: a TCP socket that remembers when the kernel received
// the bytes it last read, so a delivery's latency is measured to its
// arrival on the client's machine (the kernel-receive time), not to when
// the load program got round to parsing it. The load program is a single
// thread shared by thousands of readers; measured after parsing, a
// latency also holds the time the packet waited for the readers before it
// in the queue, which says more about the client than the server.
//
// The kernel stamps each received segment (SO_TIMESTAMPNS) and recvmsg()
// returns the stamp of the last segment it read (in CLOCK_REALTIME); it is
// converted to the steady clock of now_ns() at the moment it is read.
// A read is async_wait(readable) then one non-blocking recvmsg().
//
// It *is* a tcp::socket, so Beast's HTTP reads and websocket::stream use
// it as the next layer (the teardown of basic_stream_socket applies); only
// async_read_some is replaced. Call enable_rx_stamps() once the socket is open.
// Thread-safety: as tcp::socket (one thread at a time).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>

#include "common.h"

namespace chaton::bench {

// Asks the kernel to stamp what `s` (open) receives; false if it refuses.
inline bool enable_rx_stamps(tcp::socket& s) {
  int one = 1;
  return ::setsockopt(s.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) == 0;
}

class RxStampedSocket : public tcp::socket {
 public:
  using tcp::socket::basic_stream_socket;

  // When the kernel received the last bytes read (now_ns()'s clock), if a
  // stamp came with them.
  std::optional<int64_t> received_at() const {
    if (rx_ns_ == 0) return std::nullopt;
    return rx_ns_;
  }

  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return net::async_initiate<Token, void(beast::error_code, size_t)>(
        [this](auto handler, const MutableBufferSequence& b) { wait_then_read(std::move(handler), b); },
        token, buffers);
  }

 private:
  template <class Handler, class Buffers>
  void wait_then_read(Handler handler, const Buffers& buffers) {
    async_wait(wait_read, [this, handler = std::move(handler), buffers](beast::error_code ec) mutable {
      if (ec) return handler(ec, size_t{0});
      read_now(std::move(handler), buffers);
    });
  }

  template <class Handler, class Buffers>
  void read_now(Handler handler, const Buffers& buffers) {
    iovec iov[16];
    size_t n_iov = 0, total = 0;
    for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers) && n_iov < 16;
         ++it) {
      net::mutable_buffer b = *it;
      if (b.size() == 0) continue;
      iov[n_iov++] = iovec{b.data(), b.size()};
      total += b.size();
    }
    if (total == 0) return handler(beast::error_code{}, size_t{0});
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = n_iov;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(native_handle(), &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return wait_then_read(std::move(handler), buffers);
      return handler(beast::error_code(errno, boost::system::system_category()), size_t{0});
    }
    if (n == 0) return handler(beast::error_code(net::error::eof), size_t{0});
    rx_ns_ = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
      timespec rx;
      std::memcpy(&rx, CMSG_DATA(c), sizeof rx);
      timespec real;
      ::clock_gettime(CLOCK_REALTIME, &real);
      int64_t age =
          (static_cast<int64_t>(real.tv_sec) - rx.tv_sec) * 1'000'000'000 + (real.tv_nsec - rx.tv_nsec);
      rx_ns_ = now_ns() - (age > 0 ? age : 0);
    }
    handler(beast::error_code{}, static_cast<size_t>(n));
  }

  int64_t rx_ns_ = 0;
};

// A WebSocket over it closes as one over its tcp::socket (found by ADL).
inline void teardown(beast::role_type role, RxStampedSocket& s, beast::error_code& ec) {
  websocket::teardown(role, static_cast<tcp::socket&>(s), ec);
}
template <class Handler>
void async_teardown(beast::role_type role, RxStampedSocket& s, Handler&& handler) {
  websocket::async_teardown(role, static_cast<tcp::socket&>(s), std::forward<Handler>(handler));
}

}  // namespace chaton::bench
