// Tests for the load program's event-stream splitter (bench/sse_splitter.h):
// the three line ends, a CR LF cut between two reads, comments and ignored
// fields, multi-line data, the last id carried to later events, events
// without data, and stopping when the handler says so.
#include "sse_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chaton::bench {
namespace {

using Event = std::pair<std::string, std::string>;  // id, data

// Feeds `pieces` one after another; returns every event dispatched.
std::vector<Event> split(std::initializer_list<std::string_view> pieces) {
  SseSplitter s;
  std::vector<Event> out;
  for (std::string_view p : pieces) {
    EXPECT_TRUE(s.feed(p, [&](std::string_view id, std::string_view data) {
      out.emplace_back(std::string(id), std::string(data));
      return true;
    }));
  }
  return out;
}

TEST(SseSplitter, OneEventPerBlankLine) {
  EXPECT_EQ(split({"id: 1\ndata: {\"pos\":1}\n\nid: 2\ndata: {\"pos\":2}\n\n"}),
            (std::vector<Event>{{"1", "{\"pos\":1}"}, {"2", "{\"pos\":2}"}}));
}

TEST(SseSplitter, LinesEndInLfCrLfOrCr) {
  EXPECT_EQ(split({"id: 1\r\ndata: a\r\n\r\nid: 2\rdata: b\r\rid: 3\ndata: c\n\n"}),
            (std::vector<Event>{{"1", "a"}, {"2", "b"}, {"3", "c"}}));
}

TEST(SseSplitter, ACrLfIsOneLineEndNotTwo) {
  // Were the LF a second line end, the blank line would cut the event in two.
  EXPECT_EQ(split({"data: a\r\ndata: b\r\n\r\n"}), (std::vector<Event>{{"", "a\nb"}}));
}

TEST(SseSplitter, ACrLfCutBetweenTwoReadsIsOneLineEnd) {
  EXPECT_EQ(split({"data: a\r", "\ndata: b\r", "\n\r", "\n"}), (std::vector<Event>{{"", "a\nb"}}));
}

TEST(SseSplitter, AnEventCutAnywhereIsTheSame) {
  const std::string stream = "id: 7\ndata: {\"pos\":7,\"content\":[]}\n\n";
  const std::vector<Event> whole = split({stream});
  ASSERT_EQ(whole, (std::vector<Event>{{"7", "{\"pos\":7,\"content\":[]}"}}));
  for (size_t cut = 1; cut < stream.size(); ++cut) {
    std::string_view s(stream);
    EXPECT_EQ(split({s.substr(0, cut), s.substr(cut)}), whole) << "cut at " << cut;
  }
}

TEST(SseSplitter, CommentsAndOtherFieldsAreIgnored) {
  EXPECT_EQ(split({": heartbeat\n\nretry: 5000\nevent: packet\nid: 4\n: in between\ndata: x\n\n"}),
            (std::vector<Event>{{"4", "x"}}));
}

TEST(SseSplitter, DataLinesAreJoinedByLf) {
  EXPECT_EQ(split({"data: one\ndata: two\ndata:three\ndata\n\n"}),
            (std::vector<Event>{{"", "one\ntwo\nthree\n"}}));
}

TEST(SseSplitter, OnlyOneSpaceAfterTheColonIsDropped) {
  EXPECT_EQ(split({"data:  two spaces\n\n"}), (std::vector<Event>{{"", " two spaces"}}));
}

TEST(SseSplitter, TheLastIdCarriesOverAndABlankLineWithoutDataDispatchesNothing) {
  EXPECT_EQ(split({"id: 9\n\n\n\ndata: a\n\ndata: b\n\n"}), (std::vector<Event>{{"9", "a"}, {"9", "b"}}));
}

TEST(SseSplitter, AnUnfinishedEventIsNotDispatched) {
  EXPECT_TRUE(split({"id: 1\ndata: a\n"}).empty());
  EXPECT_TRUE(split({"data: a"}).empty());
}

TEST(SseSplitter, StopsWhenTheHandlerSaysSo) {
  SseSplitter s;
  std::vector<std::string> seen;
  bool go = s.feed("data: a\n\ndata: b\n\ndata: c\n\n", [&](std::string_view, std::string_view data) {
    seen.emplace_back(data);
    return seen.size() < 2;
  });
  EXPECT_FALSE(go);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

TEST(SseSplitter, ResetForgetsAHalfReadEventAndTheId) {
  SseSplitter s;
  std::vector<Event> out;
  auto keep = [&](std::string_view id, std::string_view data) {
    out.emplace_back(std::string(id), std::string(data));
    return true;
  };
  EXPECT_TRUE(s.feed("id: 3\ndata: half", keep));
  s.reset();
  EXPECT_TRUE(s.feed("data: whole\n\n", keep));
  EXPECT_EQ(out, (std::vector<Event>{{"", "whole"}}));
}

}  // namespace
}  // namespace chaton::bench
