// Metrics: see metrics.h.
#include "metrics/metrics.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace chaton::metrics {

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.end()), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (double b : bounds_) bounds_ns_.push_back(static_cast<int64_t>(std::llround(b * 1e9)));
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(std::chrono::nanoseconds d) {
  const int64_t ns = d.count();
  size_t i = 0;
  while (i < bounds_ns_.size() && ns > bounds_ns_[i]) ++i;  // `le`: a bound includes its value
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::bucket_counts() const {
  std::vector<uint64_t> counts(bounds_.size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = buckets_[i].load(std::memory_order_relaxed);
  return counts;
}

uint64_t Histogram::count() const {
  uint64_t n = 0;
  for (uint64_t c : bucket_counts()) n += c;
  return n;
}

namespace {

// Backslash and newline escaped, and the double quote too when `quote`
// (a label value; help text leaves it as it is).
std::string escaped(std::string_view v, bool quote) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"' && quote)
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string escape_label_value(std::string_view v) { return escaped(v, true); }

std::string escape_help(std::string_view v) { return escaped(v, false); }

std::string format_value(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  // The shortest digits that read back exactly, without an exponent
  // (le="0.0001", as the client libraries write it); an exponent for the
  // rare value too long for that.
  char buf[128];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  if (r.ec != std::errc()) r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

namespace {

// `{a="x",b="y"}` with `extra` (a histogram's `le`) last; "" when empty.
std::string label_text(const Labels& labels, const std::pair<std::string, std::string>* extra = nullptr) {
  if (labels.empty() && !extra) return {};
  std::string out = "{";
  bool first = true;
  auto add = [&](const std::pair<std::string, std::string>& l) {
    if (!first) out += ',';
    first = false;
    out += l.first;
    out += "=\"";
    out += escape_label_value(l.second);
    out += '"';
  };
  for (const auto& l : labels) add(l);
  if (extra) add(*extra);
  out += '}';
  return out;
}

const char* type_name(int type) {
  switch (type) {
    case 0:
      return "counter";
    case 1:
      return "gauge";
    default:
      return "histogram";
  }
}

}  // namespace

std::pair<Registry::Family*, Registry::Series*> Registry::find(std::string_view name, std::string_view help,
                                                               Type type, const Labels& labels) {
  Family* family = nullptr;
  for (auto& f : families_)
    if (f.name == name) family = &f;
  if (!family) {
    families_.push_back(Family{std::string(name), std::string(help), type, {}});
    family = &families_.back();
  }
  if (family->type != type) {
    std::fprintf(stderr, "metric %s registered with two types\n", family->name.c_str());
    std::abort();
  }
  for (auto& s : family->series)
    if (s.labels == labels) return {family, &s};
  return {family, nullptr};
}

template <class T, class Make>
std::shared_ptr<T> Registry::get(std::string_view name, std::string_view help, Type type, Labels labels,
                                 Make make) {
  std::lock_guard lock(mu_);
  auto [family, series] = find(name, help, type, labels);
  if (series && series->metric) return std::static_pointer_cast<T>(series->metric);
  std::shared_ptr<T> metric = make();
  if (series)
    series->metric = metric;
  else
    family->series.push_back(Series{std::move(labels), metric, {}});
  return metric;
}

std::shared_ptr<Counter> Registry::counter(std::string_view name, std::string_view help, Labels labels) {
  return get<Counter>(name, help, Type::counter, std::move(labels),
                      [] { return std::make_shared<Counter>(); });
}

std::shared_ptr<Gauge> Registry::gauge(std::string_view name, std::string_view help, Labels labels) {
  return get<Gauge>(name, help, Type::gauge, std::move(labels), [] { return std::make_shared<Gauge>(); });
}

std::shared_ptr<Histogram> Registry::histogram(std::string_view name, std::string_view help, Labels labels,
                                               std::span<const double> bounds) {
  return get<Histogram>(name, help, Type::histogram, std::move(labels),
                        [bounds] { return std::make_shared<Histogram>(bounds); });
}

void Registry::counter_fn(std::string_view name, std::string_view help, Labels labels,
                          std::function<uint64_t()> read) {
  read_at_scrape(name, help, Type::counter, std::move(labels),
                 [read = std::move(read)] { return static_cast<int64_t>(read()); });
}

void Registry::gauge_fn(std::string_view name, std::string_view help, Labels labels,
                        std::function<int64_t()> read) {
  read_at_scrape(name, help, Type::gauge, std::move(labels), std::move(read));
}

void Registry::read_at_scrape(std::string_view name, std::string_view help, Type type, Labels labels,
                              std::function<int64_t()> read) {
  std::lock_guard lock(mu_);
  auto [family, series] = find(name, help, type, labels);
  if (series)
    *series = Series{std::move(labels), nullptr, std::move(read)};
  else
    family->series.push_back(Series{std::move(labels), nullptr, std::move(read)});
}

std::string Registry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const Family& f : families_) {
    out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + f.name + " " + type_name(static_cast<int>(f.type)) + "\n";
    for (const Series& s : f.series) {
      if (s.read) {
        out += f.name + label_text(s.labels) + " " + std::to_string(s.read()) + "\n";
        continue;
      }
      switch (f.type) {
        case Type::counter:
          out += f.name + label_text(s.labels) + " " +
                 std::to_string(static_cast<const Counter*>(s.metric.get())->value()) + "\n";
          break;
        case Type::gauge:
          out += f.name + label_text(s.labels) + " " +
                 std::to_string(static_cast<const Gauge*>(s.metric.get())->value()) + "\n";
          break;
        case Type::histogram: {
          const auto* h = static_cast<const Histogram*>(s.metric.get());
          std::vector<uint64_t> counts = h->bucket_counts();
          uint64_t cumulative = 0;
          for (size_t i = 0; i < counts.size(); ++i) {
            cumulative += counts[i];
            std::pair<std::string, std::string> le{
                "le", i < h->bounds().size() ? format_value(h->bounds()[i]) : std::string("+Inf")};
            out += f.name + "_bucket" + label_text(s.labels, &le) + " " + std::to_string(cumulative) + "\n";
          }
          out += f.name + "_sum" + label_text(s.labels) + " " +
                 format_value(std::chrono::duration<double>(h->sum()).count()) + "\n";
          out += f.name + "_count" + label_text(s.labels) + " " + std::to_string(cumulative) + "\n";
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace chaton::metrics
