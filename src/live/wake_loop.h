// The rooms' WakeLoop (rooms/fan_out.h) for an Asio event loop: where the
// room's fan-out posts its task for the readers of that loop.
//
// wake_loop_of(executor) is the WakeLoop of the io_context that `executor`
// is the plain executor of (one per io_context, kept as an Asio service),
// or null for any other executor, a strand for one: the readers there are
// woken one by one through Waiter::wake(), each on its strand. A
// connection is given a plain io_context executor only by a loop that one
// thread runs (http/loop_pool.h), so the fan-out's task, which wakes the
// loop's readers inline, runs them where their connections run.
//
// Thread-safety: any thread. Lifetime: the WakeLoop lives as long as its
// io_context.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include "rooms/fan_out.h"

namespace chaton::live {

WakeLoop* wake_loop_of(const boost::asio::any_io_executor& executor);

}  // namespace chaton::live
