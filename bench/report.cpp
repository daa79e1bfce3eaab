#include "report.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "common.h"

namespace chaton::bench {

struct RatioRow {
  Measure measure;
  const char* label;
};
constexpr RatioRow kRatioRows[] = {
    {Measure::rss_per_client, "server RSS per waiting client"},
    {Measure::connect_cpu_per_client, "server CPU to get a client waiting"},
    {Measure::cpu_per_delivery, "server CPU per delivery"},
    {Measure::kernel_cpu_per_delivery, "of which in the kernel"},
    {Measure::latency_p50, "kernel-receive latency p50"},
    {Measure::latency_p99, "kernel-receive latency p99"},
    {Measure::load_cpu_per_delivery, "load program CPU per delivery"},
    {Measure::bytes_per_delivery, "bytes on the wire per delivery"},
};

namespace {

// One column per run, one row per figure, in the order figures first appear.
void print_columns(const char* title, const std::vector<Column>& columns) {
  std::vector<std::string> figures;
  for (const auto& c : columns)
    for (const auto& [f, v] : c.cells)
      if (std::find(figures.begin(), figures.end(), f) == figures.end()) figures.push_back(f);
  std::printf("\n| %s |", title);
  for (const auto& c : columns)
    if (!c.label.empty())
      std::printf(" %s |", c.label.c_str());
    else
      std::printf(" %s%s |", transport_name(c.transport), c.peer == Peer::nchan ? " (Nchan)" : "");
  std::printf("\n|---|");
  for (size_t i = 0; i < columns.size(); ++i) std::printf("---|");
  std::printf("\n");
  for (const auto& f : figures) {
    std::printf("| %s |", f.c_str());
    for (const auto& c : columns) {
      auto it =
          std::find_if(c.cells.begin(), c.cells.end(), [&](const auto& cell) { return cell.first == f; });
      std::printf(" %s |", it == c.cells.end() ? "-" : it->second.c_str());
    }
    std::printf("\n");
  }
}

}  // namespace

void Report::print_fanout_table() const {
  if (fanout.empty()) return;
  print_columns("Fan-out figure", fanout);
  auto base = std::find_if(fanout.begin(), fanout.end(), [](const Column& c) {
    return c.transport == Transport::comet && c.peer == Peer::chaton;
  });
  if (base == fanout.end() || fanout.size() < 2) return;
  for (const auto& r : kRatioRows) {
    auto b = base->numbers.find(r.measure);
    if (b == base->numbers.end() || b->second <= 0) continue;
    std::printf("| %s, against long-poll |", r.label);
    for (const auto& c : fanout) {
      auto v = c.numbers.find(r.measure);
      if (v == c.numbers.end())
        std::printf(" - |");
      else
        std::printf(" %.2f× |", v->second / b->second);
    }
    std::printf("\n");
  }
}

void Report::print_peer_table() const {
  struct PeerRow {
    Measure measure;
    const char* label;
    double scale;
    const char* unit;
  };
  constexpr PeerRow rows[] = {
      {Measure::cpu_per_delivery, "server CPU per delivery", 1e6, "µs"},
      {Measure::kernel_cpu_per_delivery, "of which in the kernel", 1e6, "µs"},
      {Measure::latency_p50, "kernel-receive latency p50", 1, "ms"},
      {Measure::latency_p99, "kernel-receive latency p99", 1, "ms"},
      {Measure::rss_per_client, "server memory (RSS) per waiting reader", 1, "kB"},
  };
  bool header = false;
  for (Transport t : kAllTransports) {
    auto find = [&](Peer p) {
      return std::find_if(fanout.begin(), fanout.end(),
                          [&](const Column& c) { return c.transport == t && c.peer == p; });
    };
    auto a = find(Peer::chaton), b = find(Peer::nchan);
    if (a == fanout.end() || b == fanout.end()) continue;
    if (!header) {
      std::printf(
          "\n| Transport | Figure | Chaton | nginx + Nchan | Chaton / Nchan |\n|---|---|---|---|---|\n");
      header = true;
    }
    for (const auto& r : rows) {
      auto x = a->numbers.find(r.measure), y = b->numbers.find(r.measure);
      auto cell = [&](auto it, const Column& c) {
        return it == c.numbers.end() ? std::string("-") : fmt("%.2f %s", it->second * r.scale, r.unit);
      };
      std::string ratio = x != a->numbers.end() && y != b->numbers.end() && y->second > 0
                              ? fmt("%.2f×", x->second / y->second)
                              : std::string("-");
      std::printf("| %s | %s | %s | %s | %s |\n", transport_name(t), r.label, cell(x, *a).c_str(),
                  cell(y, *b).c_str(), ratio.c_str());
    }
  }
}

void Report::print_nodes_table() const {
  if (nodes.empty()) return;
  print_columns("Nodes figure (long-poll)", nodes);
  if (nodes_ratios.empty()) return;
  std::printf("\n| Ratio, measured in this run | Value |\n|---|---|\n");
  for (const auto& r : nodes_ratios) std::printf("| %s | %s |\n", r.figure.c_str(), r.value.c_str());
}

void Report::print() const {
  std::printf("| Phase | Figure | Value |\n|---|---|---|\n");
  for (const auto& r : rows)
    std::printf("| %s | %s | %s |\n", r.phase.c_str(), r.figure.c_str(), r.value.c_str());
  print_fanout_table();
  print_peer_table();
  print_nodes_table();
  if (!notes.empty()) {
    std::printf("\n");
    for (const auto& n : notes) std::printf("- %s\n", n.c_str());
  }
  std::fflush(stdout);
}

}  // namespace chaton::bench
