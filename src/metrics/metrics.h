// Metrics: counters, gauges and histograms for /metrics (docs/DEPLOY.md,
// "Monitoring"), and their rendering in the Prometheus text exposition
// format, version 0.0.4.
//
// The metric objects are what the hot paths touch: Counter::add(),
// Gauge::add() and Histogram::observe() are relaxed atomic adds on the
// object itself, with no lock and no allocation (a histogram's buckets are
// fixed at construction). A Registry names them: a family is a metric name
// with its help text and type, and holds one series per set of label
// values. Each series is created once (normally when a room opens), and
// the code that updates it keeps the shared_ptr the registry handed out;
// asking again for the same name and labels returns the same object.
// A series may also be read from elsewhere when rendered (a callback, for
// a figure another object keeps already, like the open connections).
//
// render() writes every family in the order it was first registered, its
// series in the order they were created: `# HELP`, `# TYPE`, then one line
// per series (histograms: a cumulative `_bucket{le="..."}` per bound and
// `+Inf`, `_sum` and `_count`). Label values and help texts are escaped
// as the format says (backslash, double quote in label values, newline).
// A scrape reads each atomic once; a histogram's buckets, sum and count are
// read one after another, so a scrape that races an observation may see it
// in some of them only (every Prometheus client library behaves so).
//
// Thread-safety: the metric objects' updates and reads from any thread;
// the Registry's functions from any thread (a mutex, taken by
// registration and render() only). Lifetime: a series lives as long as the
// registry or a holder of its shared_ptr; a callback must stay callable
// while the registry can render.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chaton::metrics {

// A series' labels: name and value pairs, in the order they are written.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A count that only goes up.
class Counter {
 public:
  void add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A level that goes up and down.
class Gauge {
 public:
  void add(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  void sub(int64_t n = 1) { value_.fetch_sub(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// The buckets of a latency histogram, in seconds (upper bounds, increasing):
// from 100 microseconds (a fast disk's fdatasync) to 10 s.
inline constexpr double kLatencyBuckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                             0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};

// Durations in fixed buckets. observe() is one comparison per bound passed
// and two relaxed atomic adds.
class Histogram {
 public:
  // `bounds`: upper bounds in seconds, increasing; +Inf is implied.
  explicit Histogram(std::span<const double> bounds = kLatencyBuckets);

  void observe(std::chrono::nanoseconds d);

  // The bounds in seconds, without +Inf.
  const std::vector<double>& bounds() const { return bounds_; }
  // Observations in each bucket alone (not cumulative); the last is +Inf's.
  std::vector<uint64_t> bucket_counts() const;
  std::chrono::nanoseconds sum() const {
    return std::chrono::nanoseconds(sum_ns_.load(std::memory_order_relaxed));
  }
  uint64_t count() const;

 private:
  std::vector<double> bounds_;
  std::vector<int64_t> bounds_ns_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<int64_t> sum_ns_{0};
};

// Measures from construction to the end of the scope (or done()), into a
// histogram; monotonic time.
class Timer {
 public:
  explicit Timer(Histogram& h) : h_(h), start_(std::chrono::steady_clock::now()) {}
  ~Timer() { done(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void done() {
    if (done_) return;
    done_ = true;
    h_.observe(std::chrono::steady_clock::now() - start_);
  }

 private:
  Histogram& h_;
  std::chrono::steady_clock::time_point start_;
  bool done_ = false;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The series of family `name` with `labels`, created on first use. A name
  // registered with another type is a programming error: it aborts.
  std::shared_ptr<Counter> counter(std::string_view name, std::string_view help, Labels labels = {});
  std::shared_ptr<Gauge> gauge(std::string_view name, std::string_view help, Labels labels = {});
  std::shared_ptr<Histogram> histogram(std::string_view name, std::string_view help, Labels labels = {},
                                       std::span<const double> bounds = kLatencyBuckets);
  // A counter or gauge whose value is read from `read` at each render.
  void counter_fn(std::string_view name, std::string_view help, Labels labels,
                  std::function<uint64_t()> read);
  void gauge_fn(std::string_view name, std::string_view help, Labels labels, std::function<int64_t()> read);

  // Every family in the text format (see above).
  std::string render() const;

 private:
  enum class Type { counter, gauge, histogram };
  struct Series {
    Labels labels;
    std::shared_ptr<void> metric;  // Counter, Gauge or Histogram; null for a callback
    std::function<int64_t()> read;
  };
  struct Family {
    std::string name;
    std::string help;
    Type type;
    std::vector<Series> series;
  };
  // Under mu_: the family `name` (created with `help` and `type`), and the
  // series with `labels` in it, or null when it has none yet.
  std::pair<Family*, Series*> find(std::string_view name, std::string_view help, Type type,
                                   const Labels& labels);
  // A series read by `read` at each render(), as counter_fn and gauge_fn.
  void read_at_scrape(std::string_view name, std::string_view help, Type type, Labels labels,
                      std::function<int64_t()> read);
  template <class T, class Make>
  std::shared_ptr<T> get(std::string_view name, std::string_view help, Type type, Labels labels, Make make);

  mutable std::mutex mu_;
  std::vector<Family> families_;
};

// The text format's escaping: of a label value (backslash, double quote,
// newline), and of a help text (backslash, newline).
std::string escape_label_value(std::string_view v);
std::string escape_help(std::string_view v);
// A sample value as the format writes it: integers without a fraction,
// +Inf as "+Inf".
std::string format_value(double v);

// The Content-Type of render()'s output.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace chaton::metrics
