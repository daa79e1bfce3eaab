// Report: what a run measured, printed as Markdown tables at the end (or
// when the run is aborted): one row per figure for everything but the
// fan-out, one column per transport for the fan-out, with ratios against
// the long-poll, then (with --peer) Chaton beside nginx + Nchan per
// transport, then the nodes phase's columns and ratios, then the notes.
// Thread-safety: none; the orchestration thread only.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "options.h"

namespace chaton::bench {

// Everything but the fan-out: one row per figure.
struct Row {
  std::string phase, figure, value;
};

// The figures of a fan-out run that are compared with the long-poll's.
enum class Measure {
  rss_per_client,
  connect_cpu_per_client,
  cpu_per_delivery,
  kernel_cpu_per_delivery,  // its system time
  latency_p50,
  latency_p99,
  load_cpu_per_delivery,
  bytes_per_delivery,
  // the nodes table (nodes_phase)
  readers_waiting,
  deliveries_per_s,
  most_fds_per_node,
  db_writes_per_post,
};

// One fan-out run: a column of the fan-out table.
struct Column {
  Transport transport;
  Peer peer = Peer::chaton;
  std::string label;  // the column's name in the nodes table; empty: the transport's
  std::vector<std::pair<std::string, std::string>> cells;  // figure, value
  std::map<Measure, double> numbers;

  void add(std::string figure, std::string value) { cells.emplace_back(std::move(figure), std::move(value)); }
};

struct Report {
  std::vector<Row> rows;
  std::vector<std::string> notes;
  std::vector<Column> fanout;
  std::vector<Column> nodes;     // the nodes phase: one column per run of servers
  std::vector<Row> nodes_ratios;  // and its ratios (phase unused)

  void add(std::string phase, std::string figure, std::string value) {
    rows.push_back({std::move(phase), std::move(figure), std::move(value)});
  }
  // On stdout.
  void print() const;

 private:
  void print_fanout_table() const;
  void print_nodes_table() const;
  // --peer: per transport, Chaton's and Nchan's figures and their ratio.
  void print_peer_table() const;
};

}  // namespace chaton::bench
