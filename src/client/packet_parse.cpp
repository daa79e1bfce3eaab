// Reading a comet reply in the S-expression format (`s=1`): parse_packet()
// of client.h. Kept apart from the networking in client.cpp so the parse can
// be tested and fuzzed on its own. Pure functions, thread-safe.
#include <algorithm>

#include "client/client.h"
#include "util/sexpr.h"

namespace chaton {

namespace {

std::optional<PacketPost> parse_entry(const sexpr::Datum& entry) {
  // ("nick" (sec usec) "text" ...): anything after the text is ignored.
  if (!entry.is_list() || entry.items.size() < 3) return std::nullopt;
  const auto& nick = entry.items[0];
  const auto& stamp = entry.items[1];
  const auto& text = entry.items[2];
  if (!nick.is_string() || !text.is_string() || !stamp.is_list() || stamp.items.size() != 2 ||
      !stamp.items[0].is_integer() || !stamp.items[1].is_integer()) {
    return std::nullopt;
  }
  return PacketPost{nick.text, stamp.items[0].integer, stamp.items[1].integer, text.text};
}

}  // namespace

Result<Packet> parse_packet(std::string_view text) {
  auto datum = sexpr::read(text);
  if (!datum) return Status(Errc::corrupt, "comet: " + datum.status().message());
  auto pos = sexpr::alist_integer(*datum, "pos");
  auto cid = sexpr::alist_integer(*datum, "cid");
  if (!pos || !cid || *pos < 0) return Status(Errc::corrupt, "comet: the reply lacks pos or cid");
  Packet p;
  p.pos = static_cast<uint64_t>(*pos);
  p.cid = *cid;
  p.nc = static_cast<uint64_t>(std::max<int64_t>(0, sexpr::alist_integer(*datum, "nc").value_or(0)));
  p.ver = sexpr::alist_string(*datum, "ver").value_or("");
  if (auto content = sexpr::alist_ref(*datum, "content"); content && content->is_list()) {
    for (const auto& entry : content->items)
      if (auto post = parse_entry(entry)) p.posts.push_back(std::move(*post));
  }
  return p;
}

}  // namespace chaton
