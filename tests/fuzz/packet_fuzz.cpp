// Fuzzes the client's parse of a comet reply in the S-expression format
// (client/client.h parse_packet, over the reader of util/sexpr.h). Server replies
// are untrusted input to a client: parsing must never crash, overflow the
// stack or throw. A packet that parses must come back the same when it is
// written out again the way a server writes it and parsed once more.
#include <cstddef>
#include <cstdint>
#include <string>

#include "client/client.h"
#include "fuzz_check.h"
#include "util/sexpr.h"

using chaton::fuzz::require;

namespace {

// The packet as a server writes it (render/packet.h, comet `s=1`).
std::string write_packet(const chaton::Packet& p) {
  std::string out = "((pos . " + std::to_string(p.pos) + ") (nc . " + std::to_string(p.nc) + ") (ver . " +
                    chaton::encode_sexpr_string(p.ver) + ") (cid . " + std::to_string(p.cid) + ")\n (content";
  for (const auto& post : p.posts) {
    out += "\n  (" + chaton::encode_sexpr_string(post.nick) + " (" + std::to_string(post.sec) + " " +
           std::to_string(post.usec) + ") " + chaton::encode_sexpr_string(post.text) + ")";
  }
  return out + "))";
}

bool same_posts(const chaton::Packet& a, const chaton::Packet& b) {
  if (a.posts.size() != b.posts.size()) return false;
  for (size_t i = 0; i < a.posts.size(); ++i) {
    const auto& x = a.posts[i];
    const auto& y = b.posts[i];
    if (x.nick != y.nick || x.sec != y.sec || x.usec != y.usec || x.text != y.text) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = chaton::fuzz::as_text(data, size);
  auto datum = chaton::sexpr::read(input);
  if (!datum) require(!datum.status().message().empty(), "a read error has no reason");

  auto packet = chaton::parse_packet(input);
  if (!packet) {
    require(!packet.status().message().empty(), "a parse error has no reason");
    return 0;
  }
  require(datum.is_ok(), "a packet parsed from text the reader refuses");
  auto again = chaton::parse_packet(write_packet(*packet));
  require(again.is_ok(), "a re-written packet does not parse");
  require(again->pos == packet->pos && again->nc == packet->nc && again->ver == packet->ver &&
              again->cid == packet->cid,
          "a packet's header changed when written and parsed again");
  require(same_posts(*again, *packet), "a packet's posts changed when written and parsed again");
  return 0;
}
