// chaton_bench's command line (bench/options.h): the store, the node count
// and the nodes phase.
#include "options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chaton::bench {
namespace {

Options parse(std::vector<std::string> args) {
  args.insert(args.begin(), "chaton_bench");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

TEST(BenchOptions, FileStoreOneTableOfPhasesByDefault) {
  Options o = parse({});
  EXPECT_EQ(o.store, Store::file);
  EXPECT_TRUE(o.fanout);
  EXPECT_TRUE(o.throughput);
  EXPECT_FALSE(o.nodes_phase);
  EXPECT_EQ(o.nodes, 3);
  EXPECT_FALSE(o.pg_cluster.empty()) << "the source tree's scripts/pg_cluster.sh";
}

// --pin gives any phase the server's own cores, as --peer does; the
// server's threads are then --server-threads, or 1.
TEST(BenchOptions, PinGivesTheServerItsOwnCores) {
  EXPECT_EQ(pinned_threads(parse({})), 0) << "not pinned: the server's own default";
  EXPECT_EQ(pinned_threads(parse({"--pin"})), 1);
  EXPECT_EQ(pinned_threads(parse({"--pin", "--server-threads", "2"})), 2);
  EXPECT_EQ(pinned_threads(parse({"--peer"})), 1);
  EXPECT_EQ(peer_workers(parse({"--pin"})), 0) << "no Nchan without --peer";
  EXPECT_EQ(peer_workers(parse({"--peer", "--server-threads", "4"})), 4);
}

// Pinning gives one server its cores: PostgreSQL's processes (started by
// this program) and the nodes phase's several servers would land on the
// wrong ones.
TEST(BenchOptions, PinningIsRefusedWithPostgresOrSeveralNodes) {
  EXPECT_EXIT(parse({"--pin", "--store", "pg"}), testing::ExitedWithCode(2), "--pin or --peer .* --store pg");
  EXPECT_EXIT(parse({"--peer", "--only", "nodes"}), testing::ExitedWithCode(2),
              "--pin or --peer .* the nodes phase");
}

// --posters-core moves only the posting phase's posters; unset, nothing
// moves.
TEST(BenchOptions, PostersCoreIsACoreNumber) {
  EXPECT_EQ(parse({}).posters_core, -1);
  EXPECT_EQ(parse({"--pin", "--posters-core", "0"}).posters_core, 0);
  EXPECT_EQ(parse({"--posters-core=3"}).posters_core, 3);
  EXPECT_EXIT(parse({"--posters-core", "-1"}), testing::ExitedWithCode(2), "--posters-core must be a number");
}

TEST(BenchOptions, StorePg) {
  EXPECT_EQ(parse({"--store", "pg"}).store, Store::pg);
  EXPECT_EQ(parse({"--store=file"}).store, Store::file);
  EXPECT_STREQ(store_option(Store::pg), "pg");
}

TEST(BenchOptions, OnlyNodesRunsTheNodesPhaseAlone) {
  Options o = parse({"--only", "nodes", "--nodes", "2", "--pg-cluster", "/x/pg_cluster.sh"});
  EXPECT_TRUE(o.nodes_phase);
  EXPECT_FALSE(o.fanout);
  EXPECT_FALSE(o.throughput);
  EXPECT_EQ(o.nodes, 2);
  EXPECT_EQ(o.pg_cluster, "/x/pg_cluster.sh");
  // file, PostgreSQL on one node, across two; 2 nodes; two throughput runs
  EXPECT_EQ(nodes_phase_runs(o), 6);
  EXPECT_DOUBLE_EQ(o.deadline, kDeadlinePerServer * 6);
}

TEST(BenchOptions, BadStoreOrNodeCountIsRefused) {
  EXPECT_EXIT(parse({"--store", "sqlite"}), testing::ExitedWithCode(2), "unknown store 'sqlite'");
  EXPECT_EXIT(parse({"--nodes", "0"}), testing::ExitedWithCode(2), "--nodes must be a number from 1 to 8");
  EXPECT_EXIT(parse({"--nodes", "9"}), testing::ExitedWithCode(2), "--nodes must be a number from 1 to 8");
}

}  // namespace
}  // namespace chaton::bench
