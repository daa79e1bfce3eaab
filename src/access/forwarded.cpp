// Client address behind proxies: see forwarded.h.
#include "access/forwarded.h"

#include "util/text.h"

namespace chaton {

std::string client_address(std::string_view peer, std::string_view xff, const AddressRanges& trusted) {
  if (xff.empty() || trusted.size() == 0 || !trusted.contains(peer)) return std::string(peer);
  std::string_view rest = xff;
  while (!rest.empty()) {
    size_t comma = rest.rfind(',');
    std::string_view hop = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    AddressRanges probe = AddressRanges::parse(std::string(hop));
    if (probe.size() == 0) return std::string(peer);  // not an address: trust nothing further
    if (!trusted.contains(hop)) return std::string(hop);
  }
  return std::string(peer);
}

}  // namespace chaton
