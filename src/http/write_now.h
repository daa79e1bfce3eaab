// Writing at once: what a plain socket's send buffer takes now, before any
// asynchronous write is started.
//
// A reply or a stream's piece is nearly always small enough for the
// socket's send buffer. Written where it is made, it completes there: no
// operation is queued, no completion handler allocated and later run, and
// the caller goes on to its next piece with no turn of the event loop in
// between. What the socket does not take now (a full send buffer: a slow
// reader, a large reply) is left in `rest` for the caller's asynchronous
// write, which waits for the socket as usual. A TLS stream is never
// written so: its records are the TLS layer's to make, and its writes go
// through it as usual (nothing is written, `rest` is left whole).
//
// The socket is made non-blocking once (it then says would_block instead of
// waiting); Asio's own asynchronous operations work the same on such a
// socket.
//
// Thread-safety: on the socket's strand, with no other write under way on
// it. Lifetime: the buffers `rest` refers to only for the call.
#pragma once

#include <cstddef>
#include <type_traits>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffer_traits.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/error.hpp>

namespace chaton::http {

enum class WrittenNow {
  whole,   // every byte is written: the write is over
  part,    // `rest` holds what is still to be written (maybe all of it)
  failed,  // the socket failed (`ec`): the write is over, unsuccessfully
};

// Writes what `stream`'s plain socket takes of `rest` now, and consumes it
// from `rest`.
template <class Stream, class Buffers>
[[nodiscard]] WrittenNow write_now(Stream& stream, boost::beast::buffers_suffix<Buffers>& rest,
                                   boost::beast::error_code& ec) {
  namespace net = boost::asio;
  if constexpr (!std::is_same_v<Stream, net::ip::tcp::socket>) {
    return WrittenNow::part;  // a TLS stream: written asynchronously, through its layer
  } else {
    ec = {};
    if (!stream.non_blocking()) stream.non_blocking(true, ec);
    if (ec) {  // left to the asynchronous write, which tells what is wrong
      ec = {};
      return WrittenNow::part;
    }
    const size_t n = stream.write_some(rest, ec);
    if (ec) {
      // What the asynchronous write would wait for or retry is not a failure.
      const bool later =
          ec == net::error::would_block || ec == net::error::try_again || ec == net::error::interrupted;
      if (!later) return WrittenNow::failed;
      ec = {};
      return WrittenNow::part;
    }
    rest.consume(n);
    return boost::beast::buffer_bytes(rest) == 0 ? WrittenNow::whole : WrittenNow::part;
  }
}

}  // namespace chaton::http
