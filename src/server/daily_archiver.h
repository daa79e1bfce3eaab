// DailyArchiver: the server's own daily archiving (docs/STORAGE.md,
// "Archiving"). At every UTC midnight by the injected TimeSource's wall
// clock it runs Room::archive(today) for every room, on a worker thread of
// its own (never an I/O thread), and writes each room's report to DATADIR/logs/archive.log
// (failures also to stderr).
//
// The timer (the TimeSource's, on the io_context) is set to the next
// 00:00:00 UTC plus a short grace (so posts stamped just before midnight
// are committed first), but never longer than kMaxTimerWait: each wake-up
// asks the wall clock again, so a clock that jumps is noticed within that
// time. The day the server starts on counts as done; nothing is archived
// at start.
//
// run_now(today) runs the same job synchronously, for tests;
// wait_idle() waits until the worker has nothing queued or running.
//
// Thread-safety: start() and stop() from the owner; run_now() from any
// thread but an I/O thread (it blocks), wait_idle() too. Lifetime: the
// io_context, TimeSource and rooms must outlive the DailyArchiver; stop()
// (or the destructor) joins the worker.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "rooms/room.h"
#include "util/civil_time.h"
#include "util/result.h"
#include "util/time_source.h"

namespace chaton::server {

inline constexpr std::chrono::seconds kArchiveGrace{1};
inline constexpr std::chrono::seconds kMaxTimerWait{60};

// How long to wait, from `now`, before looking again whether a UTC day
// has ended: until the next midnight plus the grace, at most kMaxTimerWait.
std::chrono::microseconds delay_until_next_archive(SysTime now);

class DailyArchiver {
 public:
  DailyArchiver(boost::asio::io_context& ioc, TimeSource& time, std::vector<std::shared_ptr<Room>> rooms);
  ~DailyArchiver();
  DailyArchiver(const DailyArchiver&) = delete;
  DailyArchiver& operator=(const DailyArchiver&) = delete;

  // Starts the worker and arms the timer.
  void start();
  // Cancels the timer, finishes a run in progress, joins the worker. Idempotent.
  void stop();

  // Archives every room as of `today` now, on the worker, and waits. The
  // first failure, or ok.
  Status run_now(Date today);
  // Blocks until no run is queued or in progress.
  void wait_idle();

 private:
  struct Job {
    Date today;
    std::promise<Status> done;
  };

  void arm();
  void on_timer();
  std::future<Status> submit(Date today);
  void work();
  Status archive_all(Date today);

  TimeSource& time_;
  std::unique_ptr<Timer> timer_;
  std::vector<std::shared_ptr<Room>> rooms_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool running_ = false;  // the worker is archiving a job
  Date last_day_;         // the newest day archived (or started on)
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace chaton::server
