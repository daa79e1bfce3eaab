// The pure parts of chaton_bench's peer mode (bench/nchan.h): the generated
// nginx.conf, the long-poll cursor and the publisher's channel report.
#include "nchan.h"

#include <gtest/gtest.h>

namespace chaton::bench {
namespace {

TEST(NginxConf, OneWorkerInTheForegroundWithEverythingInTheRunDirectory) {
  std::string c = nginx_conf({"/tmp/run", 4567, "/usr/lib/nginx/modules/ngx_nchan_module.so"});
  EXPECT_EQ(c.find("load_module /usr/lib/nginx/modules/ngx_nchan_module.so;\n"), c.find("load_module"));
  EXPECT_LT(c.find("load_module"), c.find("events {")) << "load_module must come first";
  EXPECT_NE(c.find("daemon off;\n"), std::string::npos);
  EXPECT_NE(c.find("master_process on;\n"), std::string::npos);
  EXPECT_NE(c.find("worker_processes 1;\n"), std::string::npos);
  EXPECT_NE(c.find("pid /tmp/run/nginx.pid;\n"), std::string::npos);
  EXPECT_NE(c.find("error_log /tmp/run/error.log"), std::string::npos);
  EXPECT_NE(c.find("client_body_temp_path /tmp/run/client_body;\n"), std::string::npos);
  EXPECT_NE(c.find("listen 127.0.0.1:4567;\n"), std::string::npos);
  EXPECT_EQ(c.find("/var/"), std::string::npos) << "nothing outside the run directory";
}

TEST(NginxConf, WorkerProcessesAsGiven) {
  NchanConf n{"/tmp/run", 1, ""};
  n.workers = 8;
  EXPECT_NE(nginx_conf(n).find("worker_processes 8;\n"), std::string::npos);
}

TEST(NginxConf, WorkerConnectionsAsGiven) {
  NchanConf n{"/tmp/run", 1, ""};
  n.worker_connections = 19936;
  EXPECT_NE(nginx_conf(n).find("worker_connections 19936;\n"), std::string::npos);
}

TEST(NginxConf, NoLoadModuleWhenNginxAlreadyHasIt) {
  std::string c = nginx_conf({"/tmp/run", 1, ""});
  EXPECT_EQ(c.find("load_module"), std::string::npos);
}

TEST(NginxConf, OneSubscriberLocationPerTransportAndAPublisherOnTheSameChannel) {
  std::string c = nginx_conf({"/tmp/run", 1, ""});
  auto location = [&](const std::string& target, const std::string& directive) {
    auto at = c.find("location = " + target + " {");
    if (at == std::string::npos) return std::string("no location");
    auto end = c.find('}', at);
    return c.substr(at, end - at).find(directive) != std::string::npos ? std::string("ok")
                                                                       : "no " + directive;
  };
  EXPECT_EQ(location(nchan_sub_target(Transport::comet), "nchan_subscriber longpoll;"), "ok");
  EXPECT_EQ(location(nchan_sub_target(Transport::sse), "nchan_subscriber eventsource;"), "ok");
  EXPECT_EQ(location(nchan_sub_target(Transport::ws), "nchan_subscriber websocket;"), "ok");
  EXPECT_EQ(location(nchan_pub_target(), "nchan_publisher;"), "ok");
  for (auto t : {nchan_sub_target(Transport::comet), nchan_sub_target(Transport::sse),
                 nchan_sub_target(Transport::ws), nchan_pub_target()})
    EXPECT_EQ(location(t, std::string("nchan_channel_id ") + kNchanChannel + ";"), "ok") << t;
  EXPECT_NE(nchan_sub_target(Transport::comet), nchan_sub_target(Transport::sse));
}

TEST(LongPollCursor, FirstRequestHasNoValidatorsThenTheLastReplysOnes) {
  LongPollCursor c;
  EXPECT_EQ(c.request_headers(), "");
  EXPECT_TRUE(c.take("Mon, 30 Nov 2026 06:00:00 GMT", "\"0\""));
  EXPECT_EQ(c.request_headers(),
            "If-Modified-Since: Mon, 30 Nov 2026 06:00:00 GMT\r\nIf-None-Match: \"0\"\r\n");
  EXPECT_TRUE(c.take("Mon, 30 Nov 2026 06:00:00 GMT", "1"));
  EXPECT_EQ(c.request_headers(), "If-Modified-Since: Mon, 30 Nov 2026 06:00:00 GMT\r\nIf-None-Match: 1\r\n");
}

TEST(LongPollCursor, AReplyWithoutValidatorsKeepsThePreviousOnes) {
  LongPollCursor c;
  ASSERT_TRUE(c.take("Mon, 30 Nov 2026 06:00:01 GMT", "2"));
  EXPECT_FALSE(c.take("", "3"));
  EXPECT_FALSE(c.take("Mon, 30 Nov 2026 06:00:02 GMT", ""));
  EXPECT_EQ(c.request_headers(), "If-Modified-Since: Mon, 30 Nov 2026 06:00:01 GMT\r\nIf-None-Match: 2\r\n");
}

TEST(NchanSubscribers, TextAndJsonReports) {
  EXPECT_EQ(nchan_subscribers("queued messages: 0\r\nlast requested: 0 sec. ago\r\nactive subscribers: "
                              "200\r\nlast message id: 0:0\r\n"),
            200);
  EXPECT_EQ(
      nchan_subscribers(R"({"messages": 3, "requested": 1, "subscribers": 17, "last_message_id": "1:0"})"),
      17);
  EXPECT_EQ(nchan_subscribers("queued messages: 0"), std::nullopt);
  EXPECT_EQ(nchan_subscribers("active subscribers: x"), std::nullopt);
}

}  // namespace
}  // namespace chaton::bench
