// Client address behind proxies: see forwarded.h.
#include "access/forwarded.h"

#include <arpa/inet.h>

#include <cstring>

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

std::string client_group(std::string_view address) {
  if (address.find(':') == std::string_view::npos) return std::string(address);
  unsigned char a[16];
  if (inet_pton(AF_INET6, std::string(address).c_str(), a) != 1) return std::string(address);
  if (IN6_IS_ADDR_V4MAPPED(reinterpret_cast<const in6_addr*>(a))) return std::string(address);
  std::memset(a + 8, 0, 8);
  char out[INET6_ADDRSTRLEN];
  if (!inet_ntop(AF_INET6, a, out, sizeof out)) return std::string(address);
  return std::string(out) + "/64";
}

}  // namespace chaton
