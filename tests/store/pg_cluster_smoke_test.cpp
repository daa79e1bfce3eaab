// The tests' PostgreSQL cluster (tests/support/pg_cluster.h over
// scripts/pg_cluster.sh): fresh databases are reachable with libpq, empty and
// distinct, and a cluster of one's own stops and comes back on its port.
#include "support/pg_cluster.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <memory>
#include <string>

namespace {

using chaton::testing::PgCluster;

using Connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;

Connection connect(const std::string& url) { return {PQconnectdb(url.c_str()), &PQfinish}; }

// The single value of a one-row query, or "ERROR: ..." when it fails.
std::string value(PGconn* conn, const char* sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn, sql), &PQclear);
  if (PQresultStatus(result.get()) == PGRES_COMMAND_OK) return "";
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return std::string("ERROR: ") + PQerrorMessage(conn);
  return PQgetvalue(result.get(), 0, 0);
}

TEST(PgCluster, FreshDatabasesAreReachableEmptyAndDistinct) {
  CHATON_REQUIRE_PG();
  auto& cluster = PgCluster::shared();
  std::string first = cluster.fresh_database("smoke");
  std::string second = cluster.fresh_database("smoke");
  ASSERT_NE(first, second);

  auto a = connect(first);
  ASSERT_EQ(PQstatus(a.get()), CONNECTION_OK) << PQerrorMessage(a.get());
  EXPECT_EQ(value(a.get(), "SELECT 1"), "1");
  EXPECT_EQ(value(a.get(), "SELECT current_user"), "chaton");
  EXPECT_EQ(value(a.get(), "SHOW synchronous_commit"), "on");
  EXPECT_EQ(value(a.get(), "SHOW fsync"), "on");
  EXPECT_EQ(value(a.get(), "CREATE TABLE only_here (x int)"), "");

  auto b = connect(second);
  ASSERT_EQ(PQstatus(b.get()), CONNECTION_OK) << PQerrorMessage(b.get());
  EXPECT_NE(value(a.get(), "SELECT current_database()"), value(b.get(), "SELECT current_database()"));
  EXPECT_EQ(value(b.get(), "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'"), "0");
  EXPECT_EQ(value(a.get(), "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'"), "1");
}

TEST(PgCluster, OwnClusterStopsAndRestartsOnItsPort) {
  PgCluster cluster{PgCluster::Own{}};
  CHATON_REQUIRE_PG_CLUSTER(cluster);
  std::string url = cluster.fresh_database("restart");
  {
    auto conn = connect(url);
    ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
    EXPECT_EQ(value(conn.get(), "CREATE TABLE kept (x int)"), "");
    EXPECT_EQ(value(conn.get(), "INSERT INTO kept VALUES (7)"), "");
  }
  cluster.stop();
  EXPECT_NE(PQstatus(connect(url).get()), CONNECTION_OK);
  cluster.restart();
  auto conn = connect(url);
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  EXPECT_EQ(value(conn.get(), "SELECT x FROM kept"), "7");
}

}  // namespace
