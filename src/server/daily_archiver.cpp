// DailyArchiver: see daily_archiver.h. Every access to the timer happens
// under mu_, since its handler runs on an I/O thread while stop() may come
// from another.
#include "server/daily_archiver.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "store/file_archive.h"
#include "util/log.h"
#include "util/log_file.h"

namespace chaton::server {

namespace {

Date day_of(SysTime t) { return utc_from_seconds(to_stamp(t).sec).date; }

void log_report(const Room& room, const Clock& clock, Date today, const Result<ArchiveReport>& r) {
  LogFile log(std::filesystem::path(room.settings().config.data_dir) / "logs" / "archive.log", clock);
  std::string head = "archive " + format_date_path(today) + ": ";
  if (!r) {
    log.write(head + "failed: " + r.status().message());
    log_error("room '" + room.slug() + "': archiving " + format_date_path(today) +
              " failed: " + r.status().message());
    return;
  }
  std::vector<std::string> lines = describe_archive(*r);
  log.write(head + lines.front());
  for (size_t i = 1; i < lines.size(); ++i) log.write("  " + lines[i]);
}

}  // namespace

std::chrono::microseconds delay_until_next_archive(SysTime now) {
  SysTime midnight = from_seconds(seconds_from_date(next_day(day_of(now))));
  auto delay = std::chrono::duration_cast<std::chrono::microseconds>(midnight - now) + kArchiveGrace;
  return std::min<std::chrono::microseconds>(delay, kMaxTimerWait);
}

DailyArchiver::DailyArchiver(boost::asio::io_context& ioc, TimeSource& time,
                             std::vector<std::shared_ptr<Room>> rooms)
    : time_(time),
      timer_(time.make_timer(ioc.get_executor())),
      rooms_(std::move(rooms)),
      last_day_(day_of(time.system_now())) {}

DailyArchiver::~DailyArchiver() { stop(); }

void DailyArchiver::start() {
  std::lock_guard lock(mu_);
  if (worker_.joinable() || stopping_) return;
  worker_ = std::thread([this] { work(); });
  arm();
}

void DailyArchiver::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !worker_.joinable()) return;
    stopping_ = true;
    timer_->cancel();
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

// Caller holds mu_.
void DailyArchiver::arm() {
  timer_->arm(delay_until_next_archive(time_.system_now()), [this] { on_timer(); });
}

void DailyArchiver::on_timer() {
  Date today = day_of(time_.system_now());
  std::lock_guard lock(mu_);
  if (stopping_) return;
  if (last_day_ < today) {
    last_day_ = today;
    jobs_.push_back(Job{today, {}});  // nobody waits for a midnight run
    cv_.notify_all();
  }
  arm();
}

std::future<Status> DailyArchiver::submit(Date today) {
  std::lock_guard lock(mu_);
  Job job{today, {}};
  std::future<Status> done = job.done.get_future();
  if (stopping_ || !worker_.joinable()) {
    job.done.set_value(Status(Errc::io, "the daily archiver is not running"));
    return done;
  }
  last_day_ = std::max(last_day_, today);
  jobs_.push_back(std::move(job));
  cv_.notify_all();
  return done;
}

Status DailyArchiver::run_now(Date today) { return submit(today).get(); }

void DailyArchiver::wait_idle() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return jobs_.empty() && !running_; });
}

// The worker: one job at a time; finishes the queue before stopping.
void DailyArchiver::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      running_ = true;
    }
    Status st = archive_all(job.today);
    {
      std::lock_guard lock(mu_);
      running_ = false;
    }
    cv_.notify_all();
    job.done.set_value(std::move(st));
  }
}

Status DailyArchiver::archive_all(Date today) {
  Status first;
  for (const auto& room : rooms_) {
    Result<ArchiveReport> r = room->archive(today);
    log_report(*room, time_, today, r);
    if (!r && first)
      first = Status(r.status().code(), "room '" + room->slug() + "': " + r.status().message());
  }
  return first;
}

}  // namespace chaton::server
